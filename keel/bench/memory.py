"""Peak memory of a process and everything it starts, sampled from /proc while a benchmark runs.

getrusage's peak of children only covers children the process has waited
for, and the multiprocess executor's steps are children of its forkserver, so
they were missed. This samples the whole process tree instead and reports the
largest total at any instant, counting pages shared between forked processes
once (PSS, from /proc/PID/smaps_rollup; RSS where that is not readable).

Reading smaps_rollup walks the process's page tables in the kernel, which
is slow for a large Python process: five times a second over the
CLI, the forkserver and a step, the sampler kept a core busy enough that the
model's predictions, which split each chunk of rows between two threads and
wait for the slower, slowed measurably (`KEEL_DUCKDB_MEMORY_LIMIT=2GB keel
bench --rows 300000 --json`: scores 27.4 s against the bare script's
scoring, 22.2 s). So the
sampler's thread runs at the lowest CPU priority (nice 19): it samples freely
on an idle core and yields to the work it measures when both are busy.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

PROC = Path("/proc")


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # The command name is in parentheses and may hold spaces: the fields after the last ")" are fixed.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants that are alive now."""
    children = _children_by_parent()
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def process_memory_kb(pid: int) -> int:
    """Proportional set size of `pid` in kB (resident size when smaps_rollup is not readable); 0 if it is gone."""
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


LOWEST_PRIORITY = 19


def lower_this_threads_priority() -> None:
    """Give the calling thread the lowest CPU priority (Linux: a thread's nice value is its own)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)
    except (AttributeError, OSError):
        pass  # not Linux: the sampler runs at the process's priority


def thread_nice(native_id: int) -> int:
    """The nice value of one of this process's threads, from /proc."""
    stat = (PROC / "self" / "task" / str(native_id) / "stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


class TreeMemorySampler:
    """Samples the memory of a process tree in a background thread; `peak_mb` is the largest total seen."""

    def __init__(self, root: int | None = None, interval_s: float = 0.2):
        self.root = root or os.getpid()
        self.interval_s = interval_s
        self.peak_mb = 0.0
        self.peak_process_mb = 0.0
        self.samples = 0
        # (unix time, tree MB, largest process MB) of every sample, to attribute peaks to the steps of a run.
        self.timeline: list[tuple[float, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="keel-memory-sampler", daemon=True)

    def sample(self) -> float:
        sizes = [process_memory_kb(pid) / 1024 for pid in process_tree(self.root)]
        total = sum(sizes)
        largest = max(sizes, default=0.0)
        self.peak_mb = max(self.peak_mb, total)
        self.peak_process_mb = max(self.peak_process_mb, largest)
        self.samples += 1
        self.timeline.append((time.time(), total, largest))
        return total

    def peak_between(self, start: float, end: float) -> float:
        """The largest tree total sampled between two unix times (0.0 if no sample fell inside)."""
        return max((total for at, total, _ in self.timeline if start <= at <= end), default=0.0)

    def _run(self) -> None:
        lower_this_threads_priority()
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> "TreeMemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
