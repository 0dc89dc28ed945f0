"""A run's process is judged gone only when it is: ended, a zombie, or its id now another process's."""

import datetime as dt
import os
import subprocess
import sys
import time

import psutil

from keel.run_health import START_TIME_SLACK_SECONDS, RunProcess, abandoned_message, process_gone


def test_a_process_that_is_running_is_not_gone():
    me = psutil.Process()
    assert not process_gone(RunProcess(pid=os.getpid(), recorded_at=me.create_time() + 1))


def test_a_process_that_ended_is_gone():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert process_gone(RunProcess(pid=child.pid, recorded_at=time.time() - 5))


def test_a_process_that_ended_and_was_not_waited_for_is_gone():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        while psutil.Process(child.pid).status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
            time.sleep(0.05)
        assert psutil.Process(child.pid).status() == psutil.STATUS_ZOMBIE
        assert process_gone(RunProcess(pid=child.pid, recorded_at=time.time()))
    finally:
        child.wait()


def test_a_process_id_taken_by_a_process_started_after_the_run_recorded_it_is_gone():
    """The run recorded the id before this process existed: the id was reused, the run's own process ended."""
    started = psutil.Process().create_time()
    assert process_gone(RunProcess(pid=os.getpid(), recorded_at=started - START_TIME_SLACK_SECONDS - 60))
    assert not process_gone(RunProcess(pid=os.getpid(), recorded_at=started - START_TIME_SLACK_SECONDS + 1))


def test_the_failure_says_which_process_since_when_and_what_was_done():
    recorded = dt.datetime(2026, 12, 6, 20, 19, 41, tzinfo=dt.timezone.utc)
    message = abandoned_message(RunProcess(pid=4242, recorded_at=recorded.timestamp()), dt.datetime(2026, 12, 6, 20, 31, 39, tzinfo=dt.timezone.utc))
    assert message.startswith("its process (pid 4242, running it since 2026-12-06T20:19:41+00:00) was gone at 2026-12-06T20:31:39+00:00")
    assert "marked failed and its pool slots given back" in message
