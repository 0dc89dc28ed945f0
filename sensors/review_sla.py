"""Review cases waiting past their SLA become one alert per application day.

Every five minutes the sensor reads the review queue's waiting cases from the
warehouse (read-only; a tick that finds a run writing it looks again at the
next) and, for a day whose waiting cases have passed their due time and that
was not alerted yet, sends one alert the way drift alerts go (the sensor's
log, KEEL_ALERT_FILE or reports/alerts.jsonl, and KEEL_ALERT_WEBHOOK if set).
The days alerted are its cursor (keel.review.sla_alerts decides which).
"""

import datetime as dt
import json

import dagster as dg

from keel.alerts import AlertSettings, alert_line, deliver
from keel.home import KeelHome

# A tick waits this long for a run holding the warehouse, then leaves the look to the next tick.
WAREHOUSE_WAIT_SECONDS = 2.0
TICK_SECONDS = 300


@dg.sensor(
    name="review_sla_sensor",
    minimum_interval_seconds=TICK_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Reads the review queue's waiting cases (read-only). An application day whose cases wait past the policy's "
        "review SLA and was not alerted yet sends one alert (this log, KEEL_ALERT_FILE or reports/alerts.jsonl, and "
        "KEEL_ALERT_WEBHOOK if set) naming the day, its cases and their due time."
    ),
)
def review_sla_sensor(context: dg.SensorEvaluationContext):
    from keel import warehouse_connection as wh  # DuckDB without pandas: a tick is a few rows
    from keel.review.queue_view import waiting_by_day
    from keel.review.sla_alerts import build_overdue_review_alert, newly_overdue

    home = KeelHome.from_env()
    alerted = json.loads(context.cursor)["alerted"] if context.cursor else []
    if not home.warehouse.exists():
        return dg.SkipReason("no warehouse yet: no day has been decided")
    try:
        with wh.connect(home.warehouse, read_only=True, wait_seconds=WAREHOUSE_WAIT_SECONDS) as con:
            waiting = waiting_by_day(con)
    except wh.WarehouseBusy:
        return dg.SkipReason(f"a run holds the warehouse (waited {WAREHOUSE_WAIT_SECONDS:.0f} s); the next tick looks again")
    now = dt.datetime.now(dt.timezone.utc)
    new, remembered = newly_overdue(waiting, now, alerted)
    cursor = json.dumps({"alerted": remembered})
    if not new:
        told = f"; {len(remembered)} day(s) past due alerted already" if remembered else ""
        return dg.SensorResult(skip_reason=f"no review case newly past its SLA{told}", cursor=cursor)
    alert = build_overdue_review_alert(new, waiting, now)
    delivery = deliver(alert, AlertSettings.from_env(home.reports))
    context.log.warning(f"{alert_line(alert)} [alert appended to {delivery.file}; webhook {delivery.webhook}]")
    return dg.SensorResult(skip_reason=f"{', '.join(alert['days'])}: cases past their SLA alerted", cursor=cursor)


JOBS: list = []
SENSORS: list = [review_sla_sensor]
