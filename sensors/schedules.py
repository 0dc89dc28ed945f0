"""The daily scoring schedule."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from keel.home import KeelHome
from keel.pipeline import FRESHNESS_JOB
from keel.landing_zone import find_landing_file
from sensors.jobs import SOURCE_DELIVERED_CHECK, daily_decisioning_job


@dg.schedule(
    name="daily_scoring",
    job=daily_decisioning_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Every morning at 06:00 UTC, scores and decides yesterday's applications if their file has "
        "landed (and the landing sensor has not already done it); skips with a reason otherwise."
    ),
)
def daily_scoring(context: dg.ScheduleEvaluationContext):
    day = (context.scheduled_execution_time.date() - dt.timedelta(days=1))
    home = KeelHome.from_env()
    path = find_landing_file(home.landing_dir("applications"), "applications", day)
    if path is None:
        return dg.SkipReason(f"no applications file has landed for {day}: nothing to score")
    return dg.RunRequest(run_key=f"daily_scoring:{day.isoformat()}", partition_key=day.isoformat())


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
        "contract's cutoff; an overdue file fails source_delivered_on_time (a source outage) in the UI."
    ),
)
def source_freshness(context: dg.ScheduleEvaluationContext):
    return dg.RunRequest(run_key=f"source_freshness:{context.scheduled_execution_time:%Y-%m-%dT%H}")
