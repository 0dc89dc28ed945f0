"""`keel bench`: one scaled day through the real daily job, against the bare script.

Set-up (not measured): a fresh KEEL_HOME with the demo's labelled history
ingested and the first model trained and promoted. Measured: the daily job
for one day of N applications scaled from the real data — ingest with the
contract, dbt, scores, decisions, review queue, ledger, monitoring and every
check — through Dagster on a real instance with the multiprocess executor;
then the same computations as a bare script (keel.bench.baseline).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from keel.bench.baseline import run_baseline
from keel.bench.breakdown import overhead_breakdown
from keel.bench.memory import TreeMemorySampler
from keel.demo_calendar import DemoCalendar
from keel.forkserver import stop_forkserver
from keel.home import KeelHome

Progress = Callable[[str], None]
EXECUTORS = ("multiprocess", "in_process")


def step_windows(entries: list) -> dict[str, tuple[float, float]]:
    """Unix start and end time of each step of a run, from its event log's STEP_START and STEP_SUCCESS/FAILURE events."""
    starts: dict[str, float] = {}
    windows: dict[str, tuple[float, float]] = {}
    for entry in entries:
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE) and event.step_key in starts:
            windows[event.step_key] = (starts[event.step_key], entry.timestamp)
    return windows


def seconds_between_steps(windows: dict[str, tuple[float, float]]) -> float:
    """Seconds no step ran between a run's first step's start and its last step's end: each next step's start-up.

    Steps that overlap leave no gap between them.
    """
    gaps = 0.0
    ran_until = None
    for start, end in sorted(windows.values()):
        if ran_until is not None and start > ran_until:
            gaps += start - ran_until
        ran_until = end if ran_until is None else max(ran_until, end)
    return gaps


def seconds_before_first_step(entries: list) -> float | None:
    """From the run's start event to its first STEP_START, in its event log: the executor's start-up (for multiprocess, the forkserver importing keel)."""
    started = first_step = None
    for entry in entries:
        event = entry.dagster_event
        if event is None:
            continue
        if started is None and event.event_type == dg.DagsterEventType.RUN_START:
            started = entry.timestamp
        elif event.event_type == dg.DagsterEventType.STEP_START:
            first_step = entry.timestamp
            break
    return None if started is None or first_step is None else first_step - started


def prepare_home(home: KeelHome, progress: Progress) -> dict:
    from keel.runs import bootstrap_history

    home.ensure()
    return bootstrap_history(home, DemoCalendar(), progress=progress)


def land_scaled_day_apart(home: KeelHome, rows: int, day: dt.date) -> Path:
    """keel.bench.scaled_day.land_scaled_day in a process of its own.

    Generating the day costs the generator's memory, and the allocator keeps
    much of it after the frame is freed; in the
    CLI process that would be counted in keel's peak, though no step holds it.
    """
    import subprocess
    import sys

    command = [sys.executable, "-m", "keel.bench.scaled_day", str(home.root), str(rows), day.isoformat()]
    landed = subprocess.run(command, capture_output=True, text=True, check=False)
    if landed.returncode != 0:
        raise RuntimeError(f"generating the scaled day of {rows:,} rows failed:\n{landed.stderr[-2000:]}")
    return Path(landed.stdout.strip().splitlines()[-1])


def run_benchmark(rows: int, workdir: Path, progress: Progress = lambda _msg: None, executor: str = "multiprocess") -> dict:
    """Set up, run the scaled day through keel and through the bare script; the figures."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; expected {' or '.join(EXECUTORS)}")
    from keel.orchestrate import execute, instance_for
    from keel.pipeline import DAILY_JOB

    home = KeelHome(workdir / "home")
    progress("setting up: history and first model (not measured)")
    prepare_home(home, progress)
    day = DemoCalendar().live_dates(1)[0]
    progress(f"landing {rows:,} applications for {day}")
    landing_file = land_scaled_day_apart(home, rows, day)

    progress(f"keel: the daily job for {rows:,} rows")
    with TreeMemorySampler() as keel_memory:
        started = time.perf_counter()
        outcome = execute(DAILY_JOB, home, partition_key=day.isoformat(), executor=executor, tags={"keel/trigger": "bench"})
        keel_s = time.perf_counter() - started
    run_events = instance_for(home).all_logs(outcome.run_id)
    windows = step_windows(run_events)
    before_first_step = seconds_before_first_step(run_events)
    stages = {step: round(end - start, 3) for step, (start, end) in windows.items()}
    stage_memory = {step: round(keel_memory.peak_between(start, end), 1) for step, (start, end) in windows.items()}

    progress(f"baseline: the same computations as a bare script for {rows:,} rows")
    # The executor's forkserver outlives the run; stopped, it is not counted in the script's memory.
    stop_forkserver()
    with TreeMemorySampler() as baseline_memory:
        baseline = run_baseline(landing_file, home, workdir / "baseline")
    decided = outcome.materializations.get("decisions", {})
    return {
        "rows": rows,
        "day": day.isoformat(),
        "executor": executor,
        "success": outcome.success,
        "failure": outcome.failure,
        "run_id": outcome.run_id,
        "keel_s": round(keel_s, 2),
        "baseline_s": baseline["seconds"],
        "ratio": round(keel_s / baseline["seconds"], 2) if baseline["seconds"] else None,
        "rows_per_s": round(rows / keel_s),
        "baseline_rows_per_s": round(rows / baseline["seconds"]) if baseline["seconds"] else None,
        # The whole process tree (CLI, forkserver, steps, dbt) at its largest instant, shared pages counted once.
        "peak_rss_mb": round(keel_memory.peak_mb, 1),
        "peak_rss_one_process_mb": round(keel_memory.peak_process_mb, 1),
        "baseline_peak_rss_mb": round(baseline_memory.peak_mb, 1),
        "stages": dict(sorted(stages.items(), key=lambda item: -item[1])),
        "steps_in_order": [step for step, _window in sorted(windows.items(), key=lambda item: item[1][0])],
        # The run's start to its first step's start; the rest of keel_s outside the steps is between_steps_s and the CLI creating and reading the run.
        "first_step_after_s": round(before_first_step, 2) if before_first_step is not None else None,
        # From the first step's start to the last one's end, the time no step ran: Dagster starting each next step.
        "between_steps_s": round(seconds_between_steps(windows), 2),
        "baseline_stages": baseline["stages"],
        # The tree's largest total while each step ran (a step shorter than the 0.2 s sampling interval may show 0).
        "stage_peak_rss_mb": dict(sorted(stage_memory.items(), key=lambda item: -item[1])),
        # keel's extra seconds split against the script: around the scoring, outside the steps, step by step.
        "overhead": overhead_breakdown(keel_s, stages, baseline["seconds"], baseline["stages"]) if outcome.success else None,
        "decided": {key: decided.get(key) for key in ("routed_approve", "routed_decline", "routed_review", "decided_by_fallback") if key in decided},
    }
