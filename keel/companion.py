"""A server that lives exactly as long as the process that started it, even across that process's exec.

`keel serve` starts the review page, then replaces itself with `dagster
dev` (exec keeps its pid, so `kill PID` and Ctrl-C reach the Dagster server
as before). The review page is asked by the kernel to stop (SIGTERM) when
that process ends, however it ends: there is no supervisor left to do it.
"""

from __future__ import annotations

import signal
import subprocess

from keel.parent_exit import signal_when_parent_ends


def _stop_with_parent() -> None:
    """In the child, before it execs: SIGTERM when the parent ends; SIGINT as by default (Ctrl-C stops it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal_when_parent_ends(signal.SIGTERM)


def start_companion(command: list[str], **popen_options) -> subprocess.Popen:
    """Start `command` to be stopped (SIGTERM) when this process ends, on Linux; elsewhere it outlives it."""
    return subprocess.Popen(command, preexec_fn=_stop_with_parent, **popen_options)
