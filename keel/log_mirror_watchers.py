"""Ctrl-C stops a run without Dagster's log-mirroring helpers printing tracebacks on the terminal.

While a step runs, Dagster mirrors what it prints to the terminal with a
`tail -F` of its log file, and starts a helper (Dagster's watch_orphans.py,
a Python process) that ends the tail should the step die. Both are in the
terminal's process group, so Ctrl-C reaches them as well as the run: the
helper, asleep in its loop, died of KeyboardInterrupt and printed its
traceback on the terminal, two for each step under way (its stdout's and
its stderr's), above keel's own lines.

Started in a process group of its own, the helper is not sent the
terminal's Ctrl-C; it ends as before, when its step stops it or when it
finds its step gone. The tail stays in the terminal's group: Ctrl-C ends it
quietly. Dagster offers no hook for how it starts them, so its module's
`subprocess` is swapped for one whose Popen starts the helper apart
(resources/dbt_fork.py does the same to dagster-dbt's).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from typing import Any

from dagster._core.execution import compute_logs
from dagster._core.execution.scripts import watch_orphans

WATCHER_SCRIPT = os.path.abspath(watch_orphans.__file__)


class _WatcherInAGroupOfItsOwn:
    """subprocess as Dagster's compute-log module sees it, but the helper starts in a process group of its own."""

    def Popen(self, args: Sequence[str], **kwargs: Any) -> subprocess.Popen:  # noqa: N802 - subprocess's name
        if len(args) > 1 and args[1] == WATCHER_SCRIPT:
            kwargs.setdefault("process_group", 0)
        return subprocess.Popen(args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)


def keep_watchers_out_of_the_terminal_s_group() -> None:
    """From now on, the helpers this process's steps start are out of reach of the terminal's Ctrl-C (once per process)."""
    if not isinstance(compute_logs.subprocess, _WatcherInAGroupOfItsOwn):
        compute_logs.subprocess = _WatcherInAGroupOfItsOwn()
