"""Every failed run becomes an alert: the day's run blocked by its file or failed, or another job's run failed.

`keel status` answers when someone asks; `run_failure_sensor` tells them
without being asked, through the same channel as the drift alerts (the
sensor's log, KEEL_ALERT_FILE or reports/alerts.jsonl, and
KEEL_ALERT_WEBHOOK if set). Dagster's run-status sensor reads each failure
once, from the moment the sensor first runs.

A run whose process was killed with nothing left to notice (a `keel run`
whose terminal closed, every run of a machine that restarted) would never
fail by itself: it stays STARTED, holding the warehouse pool's slot.
`abandoned_run_sensor` marks it failed (keel.run_recovery), and
`run_failure_sensor` alerts it like any other failure.
"""

import dagster as dg

from keel.alerts import AlertSettings, alert_line, build_run_failure_alert, deliver
from keel.home import KeelHome
from keel.pipeline import DAILY_JOB
from keel.status import UI_ASSET_JOB


@dg.run_failure_sensor(
    name="run_failure_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Sends one alert for each run of this code location that fails (this log, KEEL_ALERT_FILE or "
        "reports/alerts.jsonl, and KEEL_ALERT_WEBHOOK if set): a day blocked by its file names the contract's "
        "reason and asks the source to resend it; any other failure names the step and its error."
    ),
)
def run_failure_sensor(context: dg.RunFailureSensorContext):
    from keel.ui_links import run_link
    from keel.orchestrate import read_run
    from keel.runs import summarize_day

    run = context.dagster_run
    day = run.tags.get("dagster/partition")
    outcome = read_run(context.instance, run.run_id)
    daily = run.job_name in (DAILY_JOB, UI_ASSET_JOB)  # a day's assets materialized from the UI run as its own job
    block_reason = summarize_day(day, outcome).block_reason if daily and day else None
    alert = build_run_failure_alert(
        run.job_name, run.run_id, outcome.failure, run_link(run.run_id), day=day, block_reason=block_reason, daily_job=daily
    )
    delivery = deliver(alert, AlertSettings.from_env(KeelHome.from_env().reports))
    context.log.warning(f"{alert_line(alert)} [alert appended to {delivery.file}; webhook {delivery.webhook}]")


@dg.sensor(
    name="abandoned_run_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Marks failed each STARTED run whose process is gone (the machine restarted, a `keel run` killed or its "
        "terminal closed) and gives back the warehouse pool slot it held, which every later run would otherwise "
        "wait for; the run failure sensor then alerts it. Dagster's code server fails a run whose worker it saw "
        "die, but not a run it never launched or one that went down with it."
    ),
)
def abandoned_run_sensor(context: dg.SensorEvaluationContext):
    from keel.run_recovery import release_abandoned_runs

    released = release_abandoned_runs(context.instance)
    for run in released:
        context.log.warning(f"keel: {run.line()}")
    if not released:
        return dg.SkipReason("every started run's process is there")
    return dg.SkipReason(f"{len(released)} run(s) whose process was gone marked failed: {', '.join(run.run_id for run in released)}")


JOBS: list = []
SENSORS: list = [run_failure_sensor, abandoned_run_sensor]
