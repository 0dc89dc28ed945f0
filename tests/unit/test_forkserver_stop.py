"""keel.forkserver.stop_forkserver: the server that outlives a run is gone, and the next run starts a new one.

`keel bench` stops it before the bare script runs, so that the script's
memory is not charged the server's (~0.5 GB at 10M rows).
"""

import subprocess
import sys

from keel.home import REPO_ROOT

# A fresh interpreter: the test process's own forkserver, if any, is not touched.
PROBE = f"""
import multiprocessing, multiprocessing.forkserver, os, sys
sys.path.insert(0, {str(REPO_ROOT)!r})
from keel.bench.memory import process_tree
from keel.forkserver import stop_forkserver

def step():
    pass

def run_a_step(context):
    process = context.Process(target=step)
    process.start()
    process.join()
    return process.exitcode, multiprocessing.forkserver._forkserver._forkserver_pid

if __name__ == "__main__":
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([])
    exitcode, server = run_a_step(context)
    print("first step", exitcode, "server alive", server in process_tree(os.getpid()))
    stop_forkserver()
    print("stopped, server alive", server in process_tree(os.getpid()))
    stop_forkserver()
    exitcode, next_server = run_a_step(context)
    print("next step", exitcode, "a new server", next_server not in (None, server))
"""


def test_the_stopped_server_is_gone_and_the_next_step_starts_a_new_one(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines() == [
        "first step 0 server alive True",
        "stopped, server alive False",
        "next step 0 a new server True",
    ]
