"""Sensors and jobs of the drift workflow: failing drift and performance checks alert and start a retraining.

The drift sensor reads the results of the monitoring checks from Dagster's
event log (the asset-check index; never the warehouse), folds them into
incidents with keel.alerts, and for each new incident sends one alert (run
log, KEEL_ALERT_FILE, KEEL_ALERT_WEBHOOK) and requests one run of the
training job. The candidate that run trains is registered, evaluated against
the champion and left for a person to approve: nothing is promoted here.

`keel demo` runs without the daemon and calls `incidents_to_act_on` after
each day, as a tick would.
"""

from __future__ import annotations

import json

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from assets.constants import CHECK_DATASET_DRIFT, CHECK_FEATURE_DRIFT, CHECK_PERFORMANCE, CHECK_SCORE_DRIFT
from keel.alerts import (
    DRIFT,
    INCIDENT_TAG,
    PERFORMANCE,
    SCORING_DAY_METADATA,
    TRIGGER_TAG,
    AlertSettings,
    CheckEvaluation,
    Incident,
    IncidentState,
    advance,
    alert_line,
    build_alert,
    deliver,
)
from keel.home import KeelHome
from keel.pipeline import TRAINING_JOB
from sensors.jobs import training_job

# The checks whose failures at ERROR open incidents, and the kind of incident each opens.
WATCHED_CHECKS: dict[dg.AssetCheckKey, str] = {
    dg.AssetCheckKey(dg.AssetKey("feature_drift"), CHECK_FEATURE_DRIFT): DRIFT,
    dg.AssetCheckKey(dg.AssetKey("feature_drift"), CHECK_DATASET_DRIFT): DRIFT,
    dg.AssetCheckKey(dg.AssetKey("score_drift"), CHECK_SCORE_DRIFT): DRIFT,
    dg.AssetCheckKey(dg.AssetKey("model_performance"), CHECK_PERFORMANCE): PERFORMANCE,
}
PAGE_SIZE = 50


def check_label(key: dg.AssetCheckKey) -> str:
    return f"{key.asset_key.to_user_string()}:{key.name}"


KINDS: dict[str, str] = {check_label(key): kind for key, kind in WATCHED_CHECKS.items()}


def _metadata_value(metadata, name: str):
    value = metadata.get(name)
    return getattr(value, "value", value)


def _evaluation(label: str, record) -> CheckEvaluation:
    evaluation = record.evaluation
    features = _metadata_value(evaluation.metadata, "features_at_alert") or []
    report = _metadata_value(evaluation.metadata, "report")
    day = record.partition or evaluation.partition or _metadata_value(evaluation.metadata, SCORING_DAY_METADATA)
    return CheckEvaluation(
        record_id=record.id,
        check=label,
        partition=str(day) if day else None,
        passed=evaluation.passed,
        severity=evaluation.severity.value,
        run_id=record.run_id,
        features=tuple(str(f) for f in features),
        description=evaluation.description,
        report=str(report) if report else None,
    )


def _records_after(storage, key: dg.AssetCheckKey, after: int) -> list:
    """The check's execution records with an id above `after`, oldest first (paging back from the newest)."""
    records, cursor = [], None
    while True:
        page = storage.get_asset_check_execution_history(key, limit=PAGE_SIZE, cursor=cursor)
        fresh = [record for record in page if record.id > after]
        records.extend(fresh)
        if len(fresh) < len(page) or len(page) < PAGE_SIZE:
            return sorted(records, key=lambda record: record.id)
        cursor = page[-1].id


def _run_finished(instance: dg.DagsterInstance, run_id: str) -> bool:
    run = instance.get_run_by_id(run_id)
    return run is None or run.is_finished


def read_new_evaluations(instance: dg.DagsterInstance, read_state: dict) -> tuple[list[CheckEvaluation], dict]:
    """The watched checks' results recorded since `read_state`, and the state to resume from.

    Per check, `after` is the execution id up to which everything is read and
    `done` the ids above it already read: a check planned by a run still in
    progress keeps `after` below it, so its result is read once it lands.
    Costs one query when nothing changed.
    """
    storage = instance.event_log_storage
    latest = storage.get_latest_asset_check_execution_by_key(list(WATCHED_CHECKS))
    evaluations: list[CheckEvaluation] = []
    new_state: dict = {}
    for key in WATCHED_CHECKS:
        label = check_label(key)
        seen = read_state.get(label) or {"after": 0, "done": []}
        newest = latest.get(key)
        if newest is None or newest.id <= seen["after"]:
            new_state[label] = seen
            continue
        records = _records_after(storage, key, seen["after"])
        done, pending = set(seen["done"]), []
        for record in records:
            if record.id in done:
                continue
            if record.status == AssetCheckExecutionRecordStatus.PLANNED:
                if _run_finished(instance, record.run_id):
                    done.add(record.id)  # its run ended before the check ran: nothing will come
                else:
                    pending.append(record.id)
                continue
            evaluations.append(_evaluation(label, record))
            done.add(record.id)
        after = min(pending) - 1 if pending else max([seen["after"], *(record.id for record in records)])
        new_state[label] = {"after": after, "done": sorted(i for i in done if i > after)}
    return evaluations, new_state


def already_handled(instance: dg.DagsterInstance, incident: Incident) -> bool:
    """Whether a retraining run for this incident exists (started by the sensor or by `keel demo`)."""
    return bool(instance.get_run_records(filters=dg.RunsFilter(tags={INCIDENT_TAG: incident.id}), limit=1))


def incidents_to_act_on(instance: dg.DagsterInstance, cursor: str | None) -> tuple[list[Incident], list[Incident], str]:
    """(incidents opened since `cursor` that nobody has acted on, incidents closed, the new cursor)."""
    state = json.loads(cursor) if cursor else {}
    evaluations, read_state = read_new_evaluations(instance, state.get("read") or {})
    step = advance(IncidentState.from_dict(state.get("incidents")), evaluations, KINDS)
    fresh = [incident for incident in step.opened if not already_handled(instance, incident)]
    new_cursor = json.dumps({"read": read_state, "incidents": step.state.to_dict()}, sort_keys=True)
    return fresh, step.closed, new_cursor


def retraining_tags(incident: Incident, trigger: str) -> dict[str, str]:
    return {INCIDENT_TAG: incident.id, TRIGGER_TAG: trigger}


def retraining_run_key(incident: Incident) -> str:
    return f"retrain:{incident.id}"


@dg.sensor(
    name="drift_sensor",
    jobs=[training_job],
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Reads the drift and performance checks of the monitoring assets from the event log. When one fails "
        "at alert level (ERROR) and no incident of its kind is open, sends one alert (this log, "
        "KEEL_ALERT_FILE or reports/alerts.jsonl, and KEEL_ALERT_WEBHOOK if set) and requests one run of "
        "train_model; the candidate waits for a person's approval. The incident closes when the checks pass again."
    ),
)
def drift_sensor(context: dg.SensorEvaluationContext):
    home = KeelHome.from_env()
    settings = AlertSettings.from_env(home.reports)
    incidents, closed, cursor = incidents_to_act_on(context.instance, context.cursor)
    for incident in closed:
        context.log.info(f"incident {incident.id} closed: its checks pass again (last alert on {incident.last_day})")
    requests = []
    for incident in incidents:
        alert = build_alert(incident, TRAINING_JOB)
        delivery = deliver(alert, settings)
        context.log.warning(f"{alert_line(alert)} [alert appended to {delivery.file}; webhook {delivery.webhook}]")
        requests.append(
            dg.RunRequest(run_key=retraining_run_key(incident), job_name=TRAINING_JOB, tags=retraining_tags(incident, "drift_sensor"))
        )
    if not requests:
        return dg.SensorResult(skip_reason="no new drift or performance incident", cursor=cursor)
    return dg.SensorResult(run_requests=requests, cursor=cursor)


JOBS: list = []  # the sensor launches train_model, which sensors/jobs.py defines
SENSORS: list = [drift_sensor]
