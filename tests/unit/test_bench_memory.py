"""The benchmark's memory figure covers processes started by processes the CLI started (the executor's steps)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from keel.bench.memory import LOWEST_PRIORITY, TreeMemorySampler, process_memory_kb, process_tree, thread_nice

# A child that starts a grandchild holding ~300 MB, like the executor's forkserver starting a step.
GRANDCHILD = "import time; block = bytearray(300 * 1024 * 1024); block[::4096] = b'x' * len(block[::4096]); time.sleep(3)"
CHILD = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {GRANDCHILD!r}], check=True)"


def test_the_peak_counts_a_grandchilds_memory():
    baseline = process_memory_kb(os.getpid()) / 1024
    with TreeMemorySampler(interval_s=0.05) as sampler:
        child = subprocess.Popen([sys.executable, "-c", CHILD])
        deadline = time.monotonic() + 10
        while len(process_tree(os.getpid())) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(process_tree(os.getpid())) >= 3, "the child and grandchild should be seen in the tree"
        child.wait(timeout=60)
    assert sampler.samples > 5
    assert sampler.peak_mb >= baseline + 290, (sampler.peak_mb, baseline)
    assert sampler.peak_process_mb >= 290


def test_a_process_that_is_gone_counts_nothing():
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    assert process_memory_kb(finished.pid) == 0


def test_a_peak_is_attributed_to_the_window_it_happened_in():
    with TreeMemorySampler(interval_s=0.05) as sampler:
        time.sleep(0.5)
        child_started = time.time()
        subprocess.run([sys.executable, "-c", GRANDCHILD], check=True)
        child_ended = time.time()
        time.sleep(0.5)
    before = sampler.peak_between(0, child_started - 0.1)
    during = sampler.peak_between(child_started, child_ended)
    after = sampler.peak_between(child_ended + 0.1, time.time())
    assert during >= before + 290, (before, during)
    assert during >= after + 290, (after, during)
    assert sampler.peak_between(0, 1) == 0.0


def test_the_sampler_yields_the_cpu_to_what_it_measures():
    # Reading /proc/PID/smaps_rollup of large processes five times a second kept a core busy under the measured steps.
    main_nice = thread_nice(threading.get_native_id())
    with TreeMemorySampler(interval_s=0.05) as sampler:
        deadline = time.monotonic() + 10
        while sampler.samples < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert thread_nice(sampler._thread.native_id) == LOWEST_PRIORITY
        assert thread_nice(threading.get_native_id()) == main_nice
    assert sampler.samples >= 2
