"""Is the process that drives a run still there?

A run's process is the one that orders its steps: `keel run`'s own process,
or the run worker the daemon's launcher started. If it dies with nothing
left to notice (a `keel run` killed or its terminal closed, the machine
restarted mid-run), Dagster keeps the run STARTED, and with it the
`warehouse` pool's one slot: every later run then waits for a slot that is
never given back, and `keel run` refuses the day as under way. Dagster's run
monitoring cannot tell for runs of the default launcher or of the CLI (its
code server fails only a worker it launched and saw die), so keel judges it
from the process id the run recorded in its first engine event ("Executing
steps in process (pid: …)", "Started process for run (pid: …)").

keel's instance keeps its storage in the home's folder, so every run of it
runs on this machine: a process id is this machine's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import psutil

# A process's start time as the kernel gives it is rounded against the boot time; a process
# that started this much after the run recorded its id cannot be the one that recorded it.
START_TIME_SLACK_SECONDS = 2.0


@dataclass(frozen=True)
class RunProcess:
    """The process a run recorded as its own, and when it recorded it (epoch seconds)."""

    pid: int
    recorded_at: float


def process_gone(process: RunProcess) -> bool:
    """Whether the run's process has ended: no such process, a zombie, or the id now another's (started after the run recorded it)."""
    try:
        found = psutil.Process(process.pid)
        if found.status() == psutil.STATUS_ZOMBIE:
            return True
        return found.create_time() > process.recorded_at + START_TIME_SLACK_SECONDS
    except psutil.NoSuchProcess:
        return True
    except psutil.AccessDenied:
        return False  # someone else's process, alive: not ours to judge


def abandoned_message(process: RunProcess, now: dt.datetime) -> str:
    """What the run's failure says: why it failed, and that nothing it did is undone."""
    since = dt.datetime.fromtimestamp(process.recorded_at, dt.timezone.utc).isoformat(timespec="seconds")
    return (
        f"its process (pid {process.pid}, running it since {since}) was gone at {now.isoformat(timespec='seconds')} "
        "(killed, or the machine stopped): marked failed and its pool slots given back; steps that finished keep what they wrote"
    )
