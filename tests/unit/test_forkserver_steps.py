"""keel.forkserver_steps: the executor's forkserver and its steps end with the process that started the server.

Otherwise a step of a run whose process was killed went on, and wrote to the
warehouse with no one left to record it (tests/integration/test_run_days.py
has the run); here, the mechanism without Dagster.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

from keel.home import REPO_ROOT
from tests.process_state import running

# The process that runs an executor: it starts the forkserver with keel's module in
# its preload, has it fork a step that would run for minutes, and says who is who.
EXECUTOR_PROCESS = f"""
import multiprocessing, multiprocessing.forkserver, os, sys, time
sys.path.insert(0, {str(REPO_ROOT)!r})

def step(report):
    child = os.fork()  # what the dbt step does: a child of the step's own
    if child == 0:
        time.sleep(300)
        os._exit(0)
    report.put((os.getpid(), child))
    time.sleep(300)

if __name__ == "__main__":
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(sys.argv[1:])
    report = context.Queue()
    context.Process(target=step, args=(report,)).start()
    step_pid, step_child = report.get(timeout=120)
    print(multiprocessing.forkserver._forkserver._forkserver_pid, step_pid, step_child, flush=True)
    time.sleep(300)
"""


def _after_the_executor_process_is_killed(tmp_path, preload: list[str], seconds: float) -> dict[str, bool]:
    """Which of the server, its step and the step's child are alive `seconds` after the executor's process got SIGKILL."""
    script = tmp_path / "executor.py"
    script.write_text(EXECUTOR_PROCESS)
    errors = tmp_path / "stderr.txt"  # and multiprocessing's report of the killed process's semaphores
    with open(errors, "w") as stderr:
        process = subprocess.Popen([sys.executable, str(script), *preload], cwd=tmp_path, stdout=subprocess.PIPE, stderr=stderr, text=True)
    pids = []
    try:
        line = process.stdout.readline()
        assert line, errors.read_text()
        server, step, step_child = pids = [int(pid) for pid in line.split()]
        assert all(running(pid) for pid in pids)
        process.kill()
        process.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and (running(server) or running(step)):
            time.sleep(0.1)
        return {"server": running(server), "step": running(step), "step's child": running(step_child)}
    finally:
        process.kill()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal is Linux's")
def test_the_server_and_its_step_end_with_the_executor_process_and_the_step_s_own_child_is_left_to_it(tmp_path):
    assert _after_the_executor_process_is_killed(tmp_path, ["keel.forkserver_steps"], seconds=10) == {
        "server": False,
        "step": False,
        "step's child": True,  # left to its step: keel's one, the forked dbt, asks the kernel itself (test_dbt_fork.py)
    }


def test_without_it_the_step_holds_the_server_s_pipe_and_both_go_on(tmp_path):
    """What keel.forkserver_steps is for: multiprocessing alone leaves both running."""
    assert _after_the_executor_process_is_killed(tmp_path, [], seconds=3) == {"server": True, "step": True, "step's child": True}
