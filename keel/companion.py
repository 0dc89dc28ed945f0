"""A server that lives exactly as long as the process that started it, even across that process's exec.

`keel serve` starts the review page, then replaces itself with `dagster
dev` (exec keeps its pid, so `kill PID` and Ctrl-C reach the Dagster server
as before). The review page is asked by the kernel to stop (SIGTERM) when
that process ends, however it ends: there is no supervisor left to do it.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Looked up here, in the parent: the child between fork and exec only calls it
# (loading a library there could wait forever on a lock another thread held at the fork).
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _stop_with_parent() -> None:
    """In the child, before it execs: SIGTERM when the parent ends; SIGINT as by default (Ctrl-C stops it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if _PRCTL is not None and _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def start_companion(command: list[str], **popen_options) -> subprocess.Popen:
    """Start `command` to be stopped (SIGTERM) when this process ends, on Linux; elsewhere it outlives it."""
    return subprocess.Popen(command, preexec_fn=_stop_with_parent, **popen_options)
