"""The executor's forkserver and the steps it forks end with the process that runs the executor.

That process is `keel run`'s own, or the run worker the daemon launched. When
it was killed, a step of its run went on: a step of a `keel run --executor
multiprocess` killed with SIGKILL while the step waited for the warehouse
kept waiting, then ingested the day's 100 applications once the warehouse
was free, with no process left to store the step's events: rows in the
warehouse that no run recorded, of a run keel marks failed once it finds
its process gone (keel.run_recovery). The server did not end either: it
exits when the pipe from the executor's process closes, and
multiprocessing hands that pipe's end to every process the server forks,
the waiting step too.

So the kernel is asked for SIGKILL twice: for the server when the process
that started it ends, for each step the server forks when the server ends.
No one is left to report an interruption to, and DuckDB rolls back what a
killed step had not committed. A step's own children are not asked here:
the one keel forks, the dbt step's dbt, asks for itself
(resources/dbt_fork.py).
The kernel watches the thread that forked: the server is started from the
main thread of the executor's process (keel.orchestrate; Dagster's run
worker runs its executor there), and the server forks from its only one.

Imported only by the forkserver, through its preload list
(keel.forkserver.PRELOADED).
"""

from __future__ import annotations

import os
import signal

from keel.parent_exit import signal_when_parent_ends

_SERVER = os.getpid()
_forking_process: int | None = None


def note_forking_process() -> None:
    """Before any fork in a process that inherited this module: which process is forking."""
    global _forking_process
    _forking_process = os.getpid()


def end_with_the_server() -> None:
    """In a process the server has just forked: SIGKILL when the server ends (at once if it already has)."""
    if _forking_process != _SERVER:
        return  # forked by a step, not by the server
    signal_when_parent_ends(signal.SIGKILL)
    if os.getppid() != _SERVER:  # the server ended between the fork and the request
        os.kill(os.getpid(), signal.SIGKILL)


# The server itself: if the executor's process is gone already, the server finds
# its pipe closed before it forks anything, and exits as it always has.
signal_when_parent_ends(signal.SIGKILL)
os.register_at_fork(before=note_forking_process, after_in_child=end_with_the_server)
