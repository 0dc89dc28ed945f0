"""A source's file overdue past its contract's cutoff becomes one alert per day.

The hourly `source_freshness` job evaluates the delivery check; this sensor
reads its latest result from the event log (never the landing folder) and,
for a day found late in the last two hours and not alerted yet, sends one alert the way
drift alerts go (the sensor's log, KEEL_ALERT_FILE or reports/alerts.jsonl,
and KEEL_ALERT_WEBHOOK if set). The days alerted are its cursor, so an
outage lasting many hours is told once, and an outage already there when
the daemon starts is told at its first tick.
"""

import json
import time

import dagster as dg

from keel.alerts import AlertSettings, alert_line, build_outage_alert, deliver, outage_to_alert
from keel.home import KeelHome
from sensors.jobs import SOURCE_DELIVERED_CHECK


@dg.sensor(
    name="source_outage_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Reads the latest result of raw_applications:source_delivered_on_time (the hourly source_freshness job). "
        "A day found overdue and not alerted yet sends one alert (this log, KEEL_ALERT_FILE or reports/alerts.jsonl, "
        "and KEEL_ALERT_WEBHOOK if set) asking the source to deliver it."
    ),
)
def source_outage_sensor(context: dg.SensorEvaluationContext):
    alerted = json.loads(context.cursor)["alerted"] if context.cursor else []
    latest = context.instance.event_log_storage.get_latest_asset_check_execution_by_key([SOURCE_DELIVERED_CHECK]).get(SOURCE_DELIVERED_CHECK)
    evaluation = latest.evaluation if latest is not None else None
    if evaluation is None:
        return dg.SkipReason("the delivery check has not run yet")
    day = str(getattr(evaluation.metadata.get("day"), "value", "") or "")
    checked_s_ago = time.time() - latest.create_timestamp
    remembered = outage_to_alert(day, not evaluation.passed, checked_s_ago, alerted)
    if remembered is None:
        if evaluation.passed:
            return dg.SkipReason(f"{day}: delivered or not due yet")
        if day in alerted:
            return dg.SkipReason(f"{day}: its outage was alerted already")
        return dg.SkipReason(f"{day}: found late {checked_s_ago / 3600:.0f} h ago; the hourly source_freshness run will say whether it still is")
    from keel.ui_links import run_link

    alert = build_outage_alert(day, evaluation.description or f"the applications file of {day} is overdue", run_link(latest.run_id))
    delivery = deliver(alert, AlertSettings.from_env(KeelHome.from_env().reports))
    context.log.warning(f"{alert_line(alert)} [alert appended to {delivery.file}; webhook {delivery.webhook}]")
    return dg.SensorResult(skip_reason=f"{day}: outage alerted", cursor=json.dumps({"alerted": remembered}))


JOBS: list = []
SENSORS: list = [source_outage_sensor]
