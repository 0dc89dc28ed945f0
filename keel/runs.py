"""The daily path as people run it from the CLI: run a day, run the demo.

Each function starts Dagster runs through keel.orchestrate and turns what the
runs recorded (materialization metadata, check results) into the summary the
CLI prints; nothing here reads the warehouse directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from keel.demo_calendar import DemoCalendar, calendar_span
from keel.demo_landing import land_day
from keel.errors import KeelError
from keel.home import KeelHome
from keel.landing_zone import expected_file_names, find_landing_file, rejected_for_day
from keel.orchestrate import RunOutcome, StepProgress, execute
from keel.pipeline import DAILY_JOB, HISTORY_ASSETS, OUTCOME_ASSETS, OUTCOMES_JOB, TRAINING_JOB
from keel.scoring import NO_MODEL

SUMMED_KEYS = (
    "received", "accepted", "quarantined", "duplicates", "decided_auto", "sent_to_review", "decided_by_fallback", "qa_sampled",
    "outcomes_received", "outcomes_accepted", "outcomes_quarantined", "outcomes_duplicates",
)


@dataclass
class DaySummary:
    date: str
    received: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    decided_auto: int = 0
    sent_to_review: int = 0
    decided_by_fallback: int = 0
    qa_sampled: int = 0
    model_version: str | None = None
    policy_version: str | None = None
    blocked: bool = False
    block_reason: str | None = None
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    failed_checks: list[dict] = field(default_factory=list)
    outcomes_received: int = 0
    outcomes_accepted: int = 0
    outcomes_quarantined: int = 0
    outcomes_duplicates: int = 0
    outcomes_quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    # A broken outcomes file is held back without stopping the day (assets/ingest.py).
    outcomes_blocked: bool = False
    outcomes_block_reason: str | None = None
    outcomes_only: bool = False  # no applications landed for the day: only its outcomes were taken in
    applications_rejected: str | None = None  # with outcomes_only: a file for the day the landing sensor rejected, and why
    run_ids: list[str] = field(default_factory=list)
    success: bool = True
    failure: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def summarize_day(day: str, outcome: RunOutcome) -> DaySummary:
    summary = DaySummary(date=day, run_ids=[outcome.run_id], success=outcome.success, failure=outcome.failure)
    raw = outcome.materializations.get("raw_applications", {})
    for key in ("received", "accepted", "quarantined", "duplicates"):
        summary.__setattr__(key, int(raw.get(key, 0)))
    summary.blocked = bool(raw.get("blocked", False))
    reason = raw.get("block_reason")
    summary.block_reason = None if reason in (None, "none") else reason
    summary.quarantined_by_reason = dict(raw.get("quarantined_by_reason") or {})
    outcomes = outcome.materializations.get("raw_outcomes", {})
    for key in ("received", "accepted", "quarantined", "duplicates"):
        setattr(summary, f"outcomes_{key}", int(outcomes.get(key, 0)))
    summary.outcomes_quarantined_by_reason = dict(outcomes.get("quarantined_by_reason") or {})
    summary.outcomes_blocked = bool(outcomes.get("blocked", False))
    reason = outcomes.get("block_reason")
    summary.outcomes_block_reason = None if reason in (None, "none") else reason
    decided = outcome.materializations.get("decisions", {})
    summary.decided_auto = int(decided.get("routed_approve", 0)) + int(decided.get("routed_decline", 0))
    summary.sent_to_review = int(decided.get("routed_review", 0))
    summary.decided_by_fallback = int(decided.get("decided_by_fallback", 0))
    summary.qa_sampled = int(decided.get("qa_sampled", 0))
    summary.policy_version = decided.get("policy_version")
    version = outcome.materializations.get("scores", {}).get("model_version")
    summary.model_version = None if version in (None, NO_MODEL) else version
    summary.failed_checks = [
        {"check": key, "severity": check["severity"], "description": check["description"]}
        for key, check in sorted(outcome.checks.items())
        if not check["passed"]
    ]
    if summary.blocked:
        # The blocking check's own failure says less than the contract's reason.
        summary.failure = f"day blocked: {summary.block_reason}"
    return summary


def job_for_day(home: KeelHome, day: dt.date) -> str:
    """The job that takes `day` in: the daily job when its applications landed, the outcomes job when only outcomes did.

    Raises KeelError, saying what to deliver and where, when nothing landed for the day.
    """
    if find_landing_file(home.landing_dir("applications"), "applications", day) is not None:
        return DAILY_JOB
    if find_landing_file(home.landing_dir("outcomes"), "outcomes", day) is not None:
        # Only outcomes landed (a day with no applications, or after the last one): take them in.
        return OUTCOMES_JOB
    first_file = not any(home.landing_dir("applications").glob("applications_*"))
    rejected = rejected_for_day(home.landing_rejected, "applications", day)
    told = (f"{rejected}; " if rejected else "") + how_to_deliver(home, day, demo_history=first_file)
    raise KeelError(f"nothing has landed in {home.landing} yet: {told}" if first_file else f"no applications file has landed for {day}: {told}")


def refuse_if_under_way(home: KeelHome, day: dt.date) -> None:
    """Raise KeelError naming the run of `day` that is queued or running, if one is.

    Two runs of one day would each take its file in and append its decisions
    to the ledger, one batch per run; the landing sensor starts a day's run
    when its file lands, so a person running the day by hand may be second.
    """
    from keel.orchestrate import instance_for, run_under_way
    from keel.run_recovery import release_abandoned_runs

    with instance_for(home) as instance:
        release_abandoned_runs(instance)  # a run whose process is gone is not under way
        record = run_under_way(instance, day.isoformat())
    if record is None:
        return
    from keel.ui_links import run_link
    run = record.dagster_run
    by = run.tags.get("dagster/sensor_name") or run.tags.get("dagster/schedule_name") or run.tags.get("keel/trigger") or "the UI"
    since = dt.datetime.fromtimestamp(record.start_time or record.create_timestamp.timestamp(), dt.timezone.utc).isoformat(timespec="seconds")
    raise KeelError(
        f"{day}: run {run.run_id} of {run.job_name} is {run.status.value.lower()} (started by {by}, since {since}); "
        f"wait for it to finish (`keel status`), or terminate it in the UI first: {run_link(run.run_id)}"
    )


def release_abandoned(home: KeelHome) -> list[str]:
    """Mark failed the runs whose process is gone and give back their pool slots (keel.run_recovery); a line for each."""
    from keel.orchestrate import instance_for
    from keel.run_recovery import release_abandoned_runs

    with instance_for(home) as instance:
        return [released.line() for released in release_abandoned_runs(instance)]


def job_to_run(home: KeelHome, day: dt.date) -> str:
    """job_for_day, once no run of `day` is under way (refuse_if_under_way)."""
    job = job_for_day(home, day)
    refuse_if_under_way(home, day)
    return job


def run_day(home: KeelHome, day: dt.date, executor: str = "in_process", on_step: StepProgress | None = None) -> DaySummary:
    """Ingest, score, decide and queue one day through Dagster (plus the day's outcomes, if any landed).

    `on_step` is told each step as the run starts it (keel.orchestrate.StepProgress).
    """
    job = job_to_run(home, day)
    outcome = execute(job, home, partition_key=day.isoformat(), executor=executor, tags={"keel/trigger": "cli"}, on_step=on_step)
    summary = summarize_day(day.isoformat(), outcome)
    if job == OUTCOMES_JOB:
        summary.outcomes_only = True
        summary.applications_rejected = rejected_for_day(home.landing_rejected, "applications", day)
    return summary


def how_to_deliver(home: KeelHome, day: dt.date, demo_history: bool = False) -> str:
    """The file a person delivers to give `day` its applications, and where; the demo's tools on the demo's days."""
    how = f"deliver {expected_file_names('applications', day)} into {home.landing_dir('applications')}"
    first, last = calendar_span()
    demo_tools = ([f"`keel land --date {day}`"] if first <= day <= last else []) + (["`keel demo`"] if demo_history else [])
    return how + (f"; for the demo's data, {' or '.join(demo_tools)}" if demo_tools else "")


def sum_days(days: list[DaySummary]) -> dict:
    totals = {key: sum(getattr(d, key) for d in days) for key in SUMMED_KEYS}
    versions = sorted({d.model_version for d in days if d.model_version})
    return {
        "days_run": len(days),
        **totals,
        "model_version": versions[-1] if len(versions) == 1 else (versions or None),
        "blocked_days": [d.date for d in days if d.blocked],
        "run_ids": [rid for d in days for rid in d.run_ids],
        "days": [d.to_dict() for d in days],
    }


ProgressCallback = Callable[[str], None]


def bootstrap_history(home: KeelHome, calendar: DemoCalendar, progress: ProgressCallback | None = None) -> dict:
    """Land and ingest the labelled history, train the first model, approve and promote it."""
    note = progress or (lambda _msg: None)
    for day in calendar.history_dates() + calendar.outcome_dates_for_history():
        land_day(home, day, calendar)
    history = calendar.history_dates()
    note(f"ingesting history {history[0]} .. {history[-1]}")
    first = execute(DAILY_JOB, home, partition_range=(history[0].isoformat(), history[-1].isoformat()), asset_names=HISTORY_ASSETS, tags={"keel/trigger": "demo-history"})
    _raise_if_failed(first, "ingesting the history")
    outcome_days = calendar.outcome_dates_for_history()
    note(f"ingesting outcomes {outcome_days[0]} .. {outcome_days[-1]}")
    second = execute(DAILY_JOB, home, partition_range=(outcome_days[0].isoformat(), outcome_days[-1].isoformat()), asset_names=OUTCOME_ASSETS, tags={"keel/trigger": "demo-history"})
    _raise_if_failed(second, "ingesting the history's outcomes")
    note("training the first model")
    trained = execute(TRAINING_JOB, home, tags={"keel/trigger": "demo-history"})
    _raise_if_failed(trained, "training the first model")
    version = trained.materializations["candidate_model"]["model_version"]
    from keel.model_lifecycle import approve, promote

    approve(home, version, by="keel-demo", reason="first model of the demo, trained on the labelled history")
    promote(home, version, by="keel-demo", reason="bootstrap: no champion yet")
    return {"model_version": version, "run_ids": [first.run_id, second.run_id, trained.run_id]}


def _raise_if_failed(outcome: RunOutcome, what: str) -> None:
    if not outcome.success:
        raise KeelError(f"{what} failed in run {outcome.run_id}: {outcome.failure}")


# --- the drift sensor's work when the CLI runs without the daemon ---------


@dataclass
class IncidentResponse:
    cursor: str
    alerts: list[dict] = field(default_factory=list)
    candidate_models: list[dict] = field(default_factory=list)


def respond_to_incidents(home: KeelHome, cursor: str | None, trigger: str = "keel-demo") -> IncidentResponse:
    """Do what the drift sensor's tick does: read new monitoring check results from the event log, and
    for each new incident deliver one alert and run the training job (whose candidate is not promoted).

    `cursor` is the state returned by the previous call (None to start).
    """
    from keel.alerts import AlertSettings, build_alert, deliver
    from keel.orchestrate import instance_for
    from sensors.drift import incidents_to_act_on, retraining_tags

    incidents, _closed, new_cursor = incidents_to_act_on(instance_for(home), cursor)
    response = IncidentResponse(cursor=new_cursor)
    if not incidents:
        return response
    settings = AlertSettings.from_env(home.reports)
    for incident in incidents:
        alert = build_alert(incident, TRAINING_JOB)
        delivery = deliver(alert, settings)
        response.alerts.append({**alert, "webhook": delivery.webhook, "alert_file": delivery.file})
        trained = execute(TRAINING_JOB, home, tags=retraining_tags(incident, trigger))
        response.candidate_models.append(candidate_summary(home, incident.id, trained))
    return response


def candidate_summary(home: KeelHome, incident_id: str | None, trained: RunOutcome) -> dict:
    """The candidate a retraining run registered, with its evaluation against the champion.

    Read from the run's materializations (candidate_model, and model_evaluation
    when the training job has it) and the control store's gate record.
    """
    from keel.control_store import ControlStore
    from keel.scoring import CHAMPION

    produced = trained.materializations.get("candidate_model", {})
    version = produced.get("model_version")
    store = ControlStore(home.control_store)
    record = store.get_model_version(version) if version else None
    gate = (record or {}).get("gate") or {}
    champion = store.current_alias(CHAMPION)
    return {
        "model_version": version,
        "incident": incident_id,
        "run_id": trained.run_id,
        "success": trained.success,
        "failure": trained.failure,
        "champion": champion,
        "same_as_champion": version is not None and version == champion,
        "promoted": False,
        "gate_passed": gate.get("passed"),
        "gate_failures": list(gate.get("failures") or []),
        "metrics": {key.removeprefix("holdout_"): value for key, value in produced.items() if key.startswith("holdout_")},
        "champion_metrics": {
            key: value for key, value in (gate.get("champion") or {}).items() if isinstance(value, (int, float, str, bool))
        },
        "evaluation": trained.materializations.get("model_evaluation"),
    }
