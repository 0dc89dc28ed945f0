"""The daily scoring schedule."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from keel.home import KeelHome
from keel.landing_watch import file_sha256
from keel.landing_zone import find_landing_file
from keel.pipeline import FRESHNESS_JOB
from sensors.jobs import SOURCE_DELIVERED_CHECK, daily_decisioning_job
from sensors.landing import run_that_loaded


@dg.schedule(
    name="daily_scoring",
    job=daily_decisioning_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Every morning at 06:00 UTC, scores and decides yesterday's applications if their file has "
        "landed and no run has taken it in (the landing sensor starts one when a file lands) or is "
        "about to; skips with the reason otherwise."
    ),
)
def daily_scoring(context: dg.ScheduleEvaluationContext):
    day = (context.scheduled_execution_time.date() - dt.timedelta(days=1))
    home = KeelHome.from_env()
    path = find_landing_file(home.landing_dir("applications"), "applications", day)
    if path is None:
        return dg.SkipReason(f"no applications file has landed for {day}: nothing to score")
    sha256 = file_sha256(path)
    # The landing sensor starts a day's run when its file lands; this schedule is
    # the safety net for a file the sensor did not act on (stopped, or the
    # daemon down), not a second run of every day.
    loaded_by = run_that_loaded(context.instance, "applications", day.isoformat(), sha256)
    if loaded_by is not None:
        status = context.instance.get_run_by_id(loaded_by).status.value
        return dg.SkipReason(f"{path.name} (sha256 {sha256[:12]}…) was already taken in by run {loaded_by} ({status}): nothing new to score")
    from keel.orchestrate import run_under_way  # only when a file waits: not at definition load

    under_way = run_under_way(context.instance, day.isoformat(), daily_decisioning_job.name)
    if under_way is not None:
        return dg.SkipReason(f"run {under_way.dagster_run.run_id} of {day} is queued or running: not starting another")
    return dg.RunRequest(
        run_key=f"daily_scoring:{day.isoformat()}",
        partition_key=day.isoformat(),
        tags={"keel/source_file": path.name, "keel/source_sha256": sha256},
    )


source_freshness_job = dg.define_asset_job(
    FRESHNESS_JOB,
    selection=dg.AssetSelection.checks(SOURCE_DELIVERED_CHECK),
    description="Is the applications source delivering? Evaluates the delivery check without loading anything.",
)


@dg.schedule(
    name="source_freshness",
    job=source_freshness_job,
    cron_schedule="15 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Every hour, checks that the applications file for the next day to load has arrived by its "
        "contract's cutoff; an overdue file fails source_delivered_on_time (a source outage) in the UI, "
        "and source_outage_sensor alerts it once."
    ),
)
def source_freshness(context: dg.ScheduleEvaluationContext):
    return dg.RunRequest(run_key=f"source_freshness:{context.scheduled_execution_time:%Y-%m-%dT%H}")
