"""keel.log_mirror_watchers: Dagster's helper that watches a step's log mirroring is out of reach of the terminal's Ctrl-C.

In the terminal's process group it died of Ctrl-C with the run and printed a
traceback on the terminal, two for each step under way
(tests/integration/test_run_days.py has the run).
"""

import os
import sys

import pytest
from dagster._core.execution import compute_logs

from keel.log_mirror_watchers import WATCHER_SCRIPT, keep_watchers_out_of_the_terminal_s_group


def _process_groups_of_a_mirroring(tmp_path) -> tuple[int, int]:
    """The process groups of the tail and of its watcher, as Dagster starts them to mirror a step's log file."""
    log = tmp_path / "step.out"
    log.write_text("")
    with open(tmp_path / "mirrored.out", "w") as terminal, compute_logs.execute_posix_tail(str(log), terminal) as (tail, watcher):
        return os.getpgid(tail), os.getpgid(watcher)


@pytest.mark.skipif(sys.platform == "win32", reason="Dagster mirrors logs with tail on POSIX only")
def test_the_watcher_runs_in_a_group_of_its_own_and_the_tail_in_the_terminal_s(tmp_path, monkeypatch):
    monkeypatch.setattr(compute_logs, "subprocess", compute_logs.subprocess)  # restored after the test
    keep_watchers_out_of_the_terminal_s_group()
    keep_watchers_out_of_the_terminal_s_group()  # once per process: a second call changes nothing
    tail_group, watcher_group = _process_groups_of_a_mirroring(tmp_path)
    assert tail_group == os.getpgrp()
    assert watcher_group != os.getpgrp()


@pytest.mark.skipif(sys.platform == "win32", reason="Dagster mirrors logs with tail on POSIX only")
def test_without_it_dagster_starts_the_watcher_in_the_terminal_s_group(tmp_path, monkeypatch):
    """The premise: were Dagster to start it apart itself, keel's swap could go."""
    import subprocess

    monkeypatch.setattr(compute_logs, "subprocess", subprocess)
    assert _process_groups_of_a_mirroring(tmp_path) == (os.getpgrp(), os.getpgrp())
    assert os.path.isfile(WATCHER_SCRIPT)
