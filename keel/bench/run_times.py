"""How long a job's finished runs took, step by step, read from the instance's event log.

`keel bench` times one scaled day; the runs people wait for are the ones
already in the instance: the demo's days, the schedule's, a backfill's.
`keel bench-runs` reads them back, so a figure like "dbt_transform, median
over 30 days" comes from a command, not from someone's script.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

import dagster as dg

from keel.bench.daily_path import step_windows


@dataclass(frozen=True)
class RunTimes:
    run_id: str
    run_s: float  # the run's first event to its last
    steps: dict[str, float] = field(default_factory=dict)  # step key -> its STEP_START to its end


def run_times_from_events(run_id: str, entries: list) -> RunTimes | None:
    """A run's times from its event log entries; None when it has none."""
    if not entries:
        return None
    windows = step_windows(entries)
    return RunTimes(
        run_id=run_id,
        run_s=entries[-1].timestamp - entries[0].timestamp,
        steps={step: end - start for step, (start, end) in windows.items()},
    )


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 3), "max": round(max(values), 3), "runs": len(values)}


def summarize_run_times(job_name: str, runs: Iterable[RunTimes]) -> dict:
    """Median and longest of the runs and of each step (over the runs that ran it), longest median first."""
    runs = list(runs)
    by_step: dict[str, list[float]] = {}
    for run in runs:
        for step, seconds in run.steps.items():
            by_step.setdefault(step, []).append(seconds)
    steps = {step: _spread(seconds) for step, seconds in by_step.items()}
    return {
        "job": job_name,
        "runs": len(runs),
        "run_s": _spread([run.run_s for run in runs]) if runs else None,
        "steps": dict(sorted(steps.items(), key=lambda item: (-item[1]["median"], item[0]))),
        "run_ids": [run.run_id for run in runs],
    }


def successful_run_times(instance: dg.DagsterInstance, job_name: str, limit: int | None = None) -> list[RunTimes]:
    """The times of the job's successful runs, oldest first (at most the `limit` latest)."""
    records = instance.get_runs(filters=dg.RunsFilter(job_name=job_name, statuses=[dg.DagsterRunStatus.SUCCESS]), limit=limit)
    times = [run_times_from_events(run.run_id, instance.all_logs(run.run_id)) for run in reversed(records)]
    return [run for run in times if run is not None]
