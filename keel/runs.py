"""The daily path as people run it from the CLI: land, run a day, run the demo.

Each function starts Dagster runs through keel.orchestrate and turns what the
runs recorded (materialization metadata, check results) into the summary the
CLI prints; nothing here reads the warehouse directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from keel.demo_calendar import DemoCalendar, applications_for, outcomes_landing_on
from keel.home import KeelHome
from keel.landing_zone import find_landing_file, frame_to_bytes, landing_file_name, write_atomically
from keel.orchestrate import RunOutcome, execute
from keel.pipeline import DAILY_JOB, HISTORY_ASSETS, OUTCOME_ASSETS, TRAINING_JOB

SUMMED_KEYS = ("received", "accepted", "quarantined", "duplicates", "decided_auto", "sent_to_review", "decided_by_fallback", "qa_sampled")


class KeelError(RuntimeError):
    """A failure the CLI reports in one line with what to do next."""


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
    outcomes_received: int = 0
    run_ids: list[str] = field(default_factory=list)
    success: bool = True
    failure: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def land_day(home: KeelHome, day: dt.date, calendar: DemoCalendar = DemoCalendar(), fmt: str = "csv", fault: str | None = None) -> list[Path]:
    """Write the day's applications and outcomes files of the demo calendar into the landing zone."""
    home.ensure()
    written: list[Path] = []
    applications = applications_for(day, calendar)
    if len(applications):
        folder = home.landing_dir("applications")
        if fault:
            from keel.faults import write_faulty_file

            written.append(write_faulty_file(applications, folder, day.isoformat(), fault))
        else:
            written.append(write_atomically(folder / landing_file_name("applications", day, fmt), frame_to_bytes(applications, fmt)))
    outcomes = outcomes_landing_on(day, calendar)
    if len(outcomes):
        folder = home.landing_dir("outcomes")
        written.append(write_atomically(folder / landing_file_name("outcomes", day, fmt), frame_to_bytes(outcomes, fmt)))
    if not written:
        first, last = calendar.first_day, calendar.live_dates()[-1] + dt.timedelta(days=calendar.outcome_delay_days)
        raise KeelError(f"the demo calendar has nothing to land on {day}: it runs from {first} to {last}")
    return written


def summarize_day(day: str, outcome: RunOutcome) -> DaySummary:
    summary = DaySummary(date=day, run_ids=[outcome.run_id], success=outcome.success, failure=outcome.failure)
    raw = outcome.materializations.get("raw_applications", {})
    for key in ("received", "accepted", "quarantined", "duplicates"):
        summary.__setattr__(key, int(raw.get(key, 0)))
    summary.blocked = bool(raw.get("blocked", False))
    reason = raw.get("block_reason")
    summary.block_reason = None if reason in (None, "none") else reason
    summary.quarantined_by_reason = dict(raw.get("quarantined_by_reason") or {})
    summary.outcomes_received = int(outcome.materializations.get("raw_outcomes", {}).get("received", 0))
    decided = outcome.materializations.get("decisions", {})
    summary.decided_auto = int(decided.get("routed_approve", 0)) + int(decided.get("routed_decline", 0))
    summary.sent_to_review = int(decided.get("routed_review", 0))
    summary.decided_by_fallback = int(decided.get("decided_by_fallback", 0))
    summary.qa_sampled = int(decided.get("qa_sampled", 0))
    summary.policy_version = decided.get("policy_version")
    version = outcome.materializations.get("scores", {}).get("model_version")
    summary.model_version = None if version in (None, "unavailable") else version
    if summary.blocked and not summary.failure:
        summary.failure = f"day blocked: {summary.block_reason}"
    return summary


def run_day(home: KeelHome, day: dt.date, executor: str = "in_process") -> DaySummary:
    """Ingest, score, decide and queue one day through Dagster (plus the day's outcomes, if any landed)."""
    applications = find_landing_file(home.landing_dir("applications"), "applications", day)
    if applications is None:
        if not any(home.landing_dir("applications").glob("applications_*")):
            raise KeelError(f"nothing has landed in {home.landing} yet: run `keel land --date {day}` or `keel demo` first")
        raise KeelError(f"no applications file has landed for {day} in {home.landing_dir('applications')}: run `keel land --date {day}` first")
    # The whole daily job: the day's outcomes (if any landed) and its decisions.
    outcome = execute(DAILY_JOB, home, partition_key=day.isoformat(), executor=executor, tags={"keel/trigger": "cli"})
    return summarize_day(day.isoformat(), outcome)


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
