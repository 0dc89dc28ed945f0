"""The reviewer's desk: the cases as a reviewer sees them, and one decision written to the inbox.

`keel review list` / `decide` and the review page (keel/web/review_page.py)
both go through here, so a case reads and a decision is refused the same way
wherever a reviewer works. Reading never writes; a decision is one new inbox
file, which the review sensor (or `keel review ingest`) takes in and checks
again against the queue.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from keel.columns import APPLICATION_ID_PATTERN
from keel.warehouse import LOCK_WAIT_SECONDS

if TYPE_CHECKING:  # the CLI imports this module only when a review command runs; pandas with it
    import pandas as pd

    from keel.home import KeelHome


class ReviewRefused(ValueError):
    """A decision the desk will not write, with the reason a reviewer reads."""


def _warehouse(home: KeelHome, wait_seconds: float):
    """A read-only connection to the warehouse, waiting up to `wait_seconds` for a run holding it (WarehouseBusy after)."""
    from keel import warehouse as wh

    if not home.warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {home.warehouse}: run `keel demo` or `keel run --date D` first")
    return wh.connect(home.warehouse, read_only=True, wait_seconds=wait_seconds)


def read_queue_of(home: KeelHome, day: dt.date | None) -> pd.DataFrame:
    """The whole review queue (of `day`, or all days) with each case's review outcome, if any."""
    from keel.review.queue_view import read_queue

    with _warehouse(home, LOCK_WAIT_SECONDS) as con:
        return read_queue(con, day)


def standing_review(con, application_id: str) -> str | None:
    """The review decision that stands for a case ("decline by mchen"), whatever its day's routes are now; None if none."""
    from keel import warehouse as wh
    from keel.review.queue_view import LATEST_OUTCOMES_SQL

    if not wh.table_exists(con, "review", "review_outcomes"):
        return None
    row = wh.fetch_one(con, f"select decision, reviewer from ({LATEST_OUTCOMES_SQL}) where application_id = ?", [application_id])
    return f"{row[0]} by {row[1]}" if row else None


def explained(home: KeelHome, cases: pd.DataFrame, con=None) -> pd.DataFrame:
    """`cases` with top_features: the features that pushed each score, from the model version that scored it
    (read on `con`, or on a connection of its own)."""
    from keel.control_store import ControlStore
    from keel.models.artifacts import ModelStore
    from keel.review.explanations import with_explanations

    if con is None:
        with _warehouse(home, LOCK_WAIT_SECONDS) as own:
            return explained(home, cases, own)
    return with_explanations(con, cases, ControlStore(home.control_store), ModelStore(home.models))


def waiting_in_inbox(home: KeelHome) -> dict:
    """Decisions written to the inbox and not taken in yet, per case."""
    from keel.review.inbox import waiting_decisions
    from keel.review.inbox_listing import inbox_files

    return waiting_decisions(inbox_files(home.review_inbox))


def taken_cases(queue: pd.DataFrame, waiting: dict) -> dict[str, str]:
    """Queued cases that cannot take another decision, with why: decided, or a decision waiting in the inbox."""
    taken = {
        row.application_id: f"already has a review decision ({row.decision} by {row.reviewer})"
        for row in queue[queue["decision"].notna()].itertuples(index=False)
    } if len(queue) else {}
    for case, w in waiting.items():
        taken.setdefault(
            case,
            f"already has a decision waiting in the inbox ({w.decision} by {w.reviewer}, {w.source_file}); "
            "the first decision for a case is the one that counts",
        )
    return taken


def cell_text(value) -> str | None:
    """A cell as text; None for a missing one (None or NaN)."""
    return None if value is None or value != value else str(value)


def case_record(row, now: dt.datetime, waiting: dict, policy=None) -> dict:
    """One case of the queue as `keel review list --json` and the review page show it."""
    from keel.policy.reasons import describe_reasons
    from keel.review.queue_view import overdue

    in_inbox = waiting.get(row.application_id)
    if in_inbox and cell_text(row.decision) and not in_inbox.amends:
        in_inbox = None  # a second decision ingest will refuse, not one waiting to count
    codes = json.loads(cell_text(row.reason_codes) or "[]")
    return {
        "application_id": row.application_id,
        "application_date": str(row.application_date)[:10],
        "p_bad": None if row.p_bad != row.p_bad else round(float(row.p_bad), 4),
        "suggested_decision": row.suggested_decision,
        "reason_codes": cell_text(row.reason_codes),
        "reasons": [{"code": code, "text": text} for code, text in zip(codes, describe_reasons(codes, policy))],
        "top_features": cell_text(row.top_features),
        "qa_sampled": bool(row.qa_sampled),
        "due_by": cell_text(row.due_by),
        "status": "decided" if cell_text(row.decision) else "pending",
        "overdue": overdue(cell_text(row.due_by), bool(cell_text(row.decision)), now),
        "decision": cell_text(row.decision),
        "reviewer": cell_text(row.reviewer),
        "reason": cell_text(row.reason),
        "reviewed_at": cell_text(row.reviewed_at),
        "waiting_in_inbox": in_inbox._asdict() if in_inbox else None,
    }


@dataclass
class CaseList:
    """The cases shown (oldest first), and counts over the whole queue of the day (or of all days)."""

    cases: list[dict]
    pending: int
    decided: int
    overdue: int
    listed: int  # the cases that matched, of which `cases` are the first `limit`


def list_cases(
    home: KeelHome,
    day: dt.date | None = None,
    all_cases: bool = False,
    limit: int | None = None,
    now: dt.datetime | None = None,
    wait_seconds: float = LOCK_WAIT_SECONDS,
) -> CaseList:
    """The pending cases (with `all_cases`, the decided ones too), oldest first, each with its reasons and top features."""
    from keel.decisioning import current_policy
    from keel.review.queue_view import queue_counts, read_queue

    now = now or dt.datetime.now(dt.timezone.utc)
    with _warehouse(home, wait_seconds) as con:
        pending, decided, late = queue_counts(con, day, now)
        queue = read_queue(con, day, pending_only=not all_cases, limit=limit)
        # Explanations cost a prediction per feature: computed for the cases shown, not stored for all.
        queue = explained(home, queue, con) if len(queue) else queue
    listed = pending if not all_cases else pending + decided
    waiting = waiting_in_inbox(home)
    policy = current_policy()
    rows = queue.itertuples(index=False)
    return CaseList([case_record(row, now, waiting, policy) for row in rows], pending, decided, late, listed)


@dataclass
class DecisionWritten:
    record: dict  # the inbox line: application_id, decision, reviewer, reason, reviewed_at (and amends)
    inbox_file: Path


def write_decision(
    home: KeelHome,
    application_id: str,
    decision: str,
    reviewer: str,
    reason: str,
    amend: bool = False,
    now: dt.datetime | None = None,
    wait_seconds: float = LOCK_WAIT_SECONDS,
) -> DecisionWritten:
    """Write one review decision to the inbox as a file of its own; ReviewRefused says why not.

    A case has one review decision: a second is refused unless it amends the
    first (`amend`), and an amendment needs a decision to amend. A case whose
    day was decided again without it in review keeps its reviewer's decision,
    which can still be amended.
    """
    from keel.review import REVIEW_DECISIONS, write_inbox_file
    from keel.review.inbox import check_decision_fields
    from keel.review.queue_view import read_queue

    if not APPLICATION_ID_PATTERN.fullmatch(application_id):
        raise ReviewRefused(f"application id {application_id!r} does not look like A + 6 to 9 digits")
    if decision not in REVIEW_DECISIONS:
        raise ReviewRefused(f"decision {decision!r} must be one of {', '.join(REVIEW_DECISIONS)}")
    now = now or dt.datetime.now(dt.timezone.utc)
    record = {"application_id": application_id, "decision": decision, "reviewer": reviewer, "reason": reason, "reviewed_at": now.isoformat()}
    if amend:
        record["amends"] = True
    try:
        check_decision_fields(dict(record))  # the inbox's own checks (a reviewer and a reason given), before the queue is read
    except ValueError as error:
        raise ReviewRefused(f"application {application_id}: {error}") from None
    with _warehouse(home, wait_seconds) as con:
        queue = read_queue(con, None, application_id=application_id)
        queued = bool(len(queue))
        # A reviewer's decision stands over a day decided again without the case in review; it can still be amended.
        standing = standing_review(con, application_id) if amend and not queued else None
    taken = taken_cases(queue, waiting_in_inbox(home)).get(application_id)
    if not queued:
        if standing is None:
            raise ReviewRefused(f"application {application_id} is not in the review queue (`keel review list` shows the cases)")
        taken = f"already has a review decision ({standing}), which stands though its day was decided again without it in review"
    if taken and not amend:
        raise ReviewRefused(
            f"application {application_id} {taken}; to correct it: keel review decide {application_id} {decision} --amend --reviewer ... --reason ..."
        )
    if amend and not taken:
        raise ReviewRefused(f"application {application_id} has no review decision to amend; decide it without --amend")
    # Named by time: files that arrive within the file system's clock tick are taken in by name.
    path = write_inbox_file([record], home.review_inbox, f"decision-{application_id}-{now:%Y%m%dT%H%M%S%f}{'-amendment' * amend}.jsonl")
    return DecisionWritten(record, path)
