"""Giving back what runs whose process is gone still hold: their STARTED status and their pool slots.

`release_abandoned_runs` is called before every run the CLI starts and by
the daemon's `abandoned_run_sensor` each minute. A STARTED run whose process
is gone (keel.run_health) is marked failed with the reason in its own event
log, where the UI, `keel status` and the run failure alert read it. Slots
and queued slot claims kept by a run that has finished (failed that way, or
terminated from the UI) are given back, so the next step waiting for the
`warehouse` pool gets it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg
from dagster._core.storage.dagster_run import FINISHED_STATUSES

from keel.run_health import RunProcess, abandoned_message, process_gone


@dataclass(frozen=True)
class ReleasedRun:
    run_id: str
    job_name: str
    day: str | None
    message: str

    def line(self) -> str:
        of_day = f" of {self.day}" if self.day else ""
        return f"run {self.run_id} of {self.job_name}{of_day}: {self.message}"


def run_process(instance: dg.DagsterInstance, run_id: str) -> RunProcess | None:
    """The process the run recorded as its own first (the one that orders its steps), if it recorded one yet."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        metadata = entry.dagster_event.engine_event_data.metadata if entry.dagster_event else {}
        pid = getattr(metadata.get("pid"), "value", metadata.get("pid"))
        if pid is not None and str(pid).isdigit():
            return RunProcess(pid=int(pid), recorded_at=entry.timestamp)
    return None


def release_abandoned_runs(instance: dg.DagsterInstance, now: dt.datetime | None = None) -> list[ReleasedRun]:
    """Mark failed every STARTED run whose process is gone; give back the slots finished runs still hold."""
    now = now or dt.datetime.now(dt.timezone.utc)
    released = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        run = record.dagster_run
        process = run_process(instance, run.run_id)
        if process is None or not process_gone(process):
            continue
        message = abandoned_message(process, now)
        instance.report_run_failed(run, message=f"keel: {message}")
        released.append(ReleasedRun(run.run_id, run.job_name, run.tags.get("dagster/partition"), message))
    free_slots_of_finished_runs(instance)
    return released


def free_slots_of_finished_runs(instance: dg.DagsterInstance) -> None:
    """Give back the pool slots and queued claims of runs that have finished."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    holding = storage.get_concurrency_run_ids()
    if not holding:
        return
    for record in instance.get_run_records(dg.RunsFilter(run_ids=sorted(holding), statuses=FINISHED_STATUSES)):
        storage.free_concurrency_slots_for_run(record.dagster_run.run_id)

