"""Asking Linux to signal a process when its parent ends (prctl PR_SET_PDEATHSIG).

Used where nothing would be left to stop a process whose parent is gone: the
review page `keel serve` starts (keel.companion), the executor's forkserver
and each step it forks (keel.forkserver_steps), and dbt forked by a step
(resources/dbt_fork.py). "The parent" is the thread that forked the
process: each of them is forked from its parent's main thread (dbt asks
only when it is), which ends only with the process.
"""

from __future__ import annotations

import ctypes
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Looked up at import, in the parent: a child between fork and exec only calls it
# (loading a library there could wait forever on a lock another thread held at the fork).
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def signal_when_parent_ends(signum: int) -> bool:
    """Have the kernel send this process `signum` when its parent ends; False where it cannot (not Linux)."""
    if _PRCTL is None:
        return False
    if _PRCTL(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    return True
