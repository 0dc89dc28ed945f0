"""`keel review ...`: the review queue out to reviewers and their decisions back in."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import typer

from keel.cli.output import JSON_OPTION, emit_json, fail, keel_home as _home, one_line_errors, run_progress

review_app = typer.Typer(help="Human review: list the queue, decide, export/import spreadsheets, ingest the inbox.", no_args_is_help=True)
# The contract's application id pattern: checked before an id reaches a file name or a query.
APPLICATION_ID_PATTERN = re.compile(r"A[0-9]{6,9}")


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"--date {text!r} is not a date; expected YYYY-MM-DD")


def _queue(home, day: dt.date | None):
    """The review queue (of `day`, or all days) with each case's review outcome, if any."""
    from keel import warehouse as wh
    from keel.review.queue_view import read_queue

    if not home.warehouse.exists():
        fail(f"no warehouse at {home.warehouse}: run `keel demo` or `keel run --date D` first")
    with wh.connect(home.warehouse, read_only=True) as con:
        return read_queue(con, day)


def _standing_review(home, application_id: str) -> str | None:
    """The review decision that stands for a case ("decline by mchen"), whatever its day's routes are now; None if none."""
    from keel import warehouse as wh
    from keel.review.queue_view import LATEST_OUTCOMES_SQL

    with wh.connect(home.warehouse, read_only=True) as con:
        if not wh.table_exists(con, "review", "review_outcomes"):
            return None
        row = con.execute(f"select decision, reviewer from ({LATEST_OUTCOMES_SQL}) where application_id = ?", [application_id]).fetchone()
    return f"{row[0]} by {row[1]}" if row else None


def _explained(home, cases):
    """`cases` with top_features: the features that pushed each score, from the model version that scored it."""
    from keel import warehouse as wh
    from keel.control_store import ControlStore
    from keel.models.artifacts import ModelStore
    from keel.review.explanations import with_explanations

    with wh.connect(home.warehouse, read_only=True) as con:
        return with_explanations(con, cases, ControlStore(home.control_store), ModelStore(home.models))


def _waiting(home) -> dict:
    """Decisions written to the inbox and not taken in yet, per case."""
    from keel.review.inbox import waiting_decisions
    from keel.review.ingest import inbox_files

    return waiting_decisions(inbox_files(home.review_inbox))


def _taken(queue, waiting: dict) -> dict[str, str]:
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


def _text(value) -> str | None:
    """A cell as text; None for a missing one (None or NaN)."""
    return None if value is None or value != value else str(value)


def _case_record(row, now: dt.datetime, waiting: dict, policy=None) -> dict:
    from keel.policy.reasons import describe_reasons
    from keel.review.queue_view import overdue

    in_inbox = waiting.get(row.application_id)
    if in_inbox and _text(row.decision) and not in_inbox.amends:
        in_inbox = None  # a second decision ingest will refuse, not one waiting to count
    codes = json.loads(_text(row.reason_codes) or "[]")
    return {
        "application_id": row.application_id,
        "application_date": str(row.application_date)[:10],
        "p_bad": None if row.p_bad != row.p_bad else round(float(row.p_bad), 4),
        "suggested_decision": row.suggested_decision,
        "reason_codes": _text(row.reason_codes),
        "reasons": [{"code": code, "text": text} for code, text in zip(codes, describe_reasons(codes, policy))],
        "top_features": _text(row.top_features),
        "qa_sampled": bool(row.qa_sampled),
        "due_by": _text(row.due_by),
        "status": "decided" if _text(row.decision) else "pending",
        "overdue": overdue(_text(row.due_by), bool(_text(row.decision)), now),
        "decision": _text(row.decision),
        "reviewer": _text(row.reviewer),
        "reason": _text(row.reason),
        "reviewed_at": _text(row.reviewed_at),
        "waiting_in_inbox": in_inbox._asdict() if in_inbox else None,
    }


@review_app.command("list")
@one_line_errors
def list_cases(
    date: str = typer.Option(None, "--date", help="Only the cases queued for this application day (YYYY-MM-DD)."),
    all_cases: bool = typer.Option(False, "--all", help="Include cases already decided."),
    limit: int = typer.Option(None, "--limit", min=1, help="Show at most N cases, the oldest first (the counts still cover all)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """The cases waiting for a reviewer (oldest first), with score, reasons, top features and due-by time."""
    from keel.decisioning import current_policy
    from keel.review.queue_view import overdue

    home = _home()
    queue = _queue(home, _date(date))
    now = dt.datetime.now(dt.timezone.utc)
    pending = int(queue["decision"].isna().sum()) if len(queue) else 0
    decided = len(queue) - pending
    late = sum(overdue(_text(due), False, now) for due in queue.loc[queue["decision"].isna(), "due_by"]) if len(queue) else 0
    if len(queue) and not all_cases:
        queue = queue[queue["decision"].isna()]
    listed = len(queue)
    if limit is not None:
        queue = queue.head(limit)
    # Explanations cost a prediction per feature: computed for the cases shown, not stored for all.
    waiting = _waiting(home)
    policy = current_policy()
    shown = [_case_record(row, now, waiting, policy) for row in (_explained(home, queue) if len(queue) else queue).itertuples(index=False)]
    if json_out:
        emit_json({"date": date, "cases": shown, "pending": pending, "decided": decided, "overdue": late})
        return
    for case in shown:
        status = f"{case['status']}, OVERDUE" if case["overdue"] else case["status"]
        if case["decision"]:
            status += f": {case['decision']} by {case['reviewer']}"
        if case["waiting_in_inbox"]:
            waiting_line = case["waiting_in_inbox"]
            status += f", {'an amendment to ' if waiting_line['amends'] else ''}{waiting_line['decision']} by {waiting_line['reviewer']} waiting in the inbox"
        typer.echo(
            f"{case['application_id']}  {case['application_date']}  p_bad {case['p_bad']}  suggest {case['suggested_decision']}"
            f"{'  [QA]' if case['qa_sampled'] else ''}  due {case['due_by']}  {status}"
        )
        typer.echo("    why: " + "; ".join(f"{r['text']} [{r['code']}]" for r in case["reasons"]))
        typer.echo(f"    {case['top_features'] or ''}")
    shown_note = f"; showing the oldest {len(shown)} of {listed}" if len(shown) < listed else ""
    typer.echo(f"{pending} pending ({late} overdue), {decided} decided{shown_note}")


@review_app.command("decide")
@one_line_errors
def decide(
    application_id: str = typer.Argument(..., help="The application to decide (A + 6 to 9 digits)."),
    decision: str = typer.Argument(..., help="approve or decline"),
    reviewer: str = typer.Option(..., "--reviewer", help="Who decides."),
    reason: str = typer.Option(..., "--reason", help="Why, in a sentence the applicant's file can carry."),
    amend: bool = typer.Option(
        False, "--amend", help="Correct the case's review decision (kept on record beside it; the latest stands)."
    ),
    json_out: bool = JSON_OPTION,
) -> None:
    """Write one decision to the inbox; the review sensor (or `keel review ingest`) takes it in.

    A case has one review decision; a reviewer who got it wrong corrects it
    with --amend, and both stay on record.
    """
    from keel.review import REVIEW_DECISIONS, write_inbox_file

    if not APPLICATION_ID_PATTERN.fullmatch(application_id):
        fail(f"application id {application_id!r} does not look like A + 6 to 9 digits")
    if decision not in REVIEW_DECISIONS:
        fail(f"decision {decision!r} must be one of {', '.join(REVIEW_DECISIONS)}")
    home = _home()
    queue = _queue(home, None)
    taken = _taken(queue, _waiting(home)).get(application_id)
    if not len(queue) or application_id not in set(queue["application_id"]):
        # A reviewer's decision stands over a day decided again without the case in review; it can still be amended.
        standing = _standing_review(home, application_id) if amend else None
        if standing is None:
            fail(f"application {application_id} is not in the review queue (`keel review list` shows the cases)")
        taken = f"already has a review decision ({standing}), which stands though its day was decided again without it in review"
    if taken and not amend:
        fail(f"application {application_id} {taken}; to correct it: keel review decide {application_id} {decision} --amend --reviewer ... --reason ...")
    if amend and not taken:
        fail(f"application {application_id} has no review decision to amend; decide it without --amend")
    now = dt.datetime.now(dt.timezone.utc)
    record = {"application_id": application_id, "decision": decision, "reviewer": reviewer, "reason": reason, "reviewed_at": now.isoformat()}
    if amend:
        record["amends"] = True
    # Named by time: files that arrive within the file system's clock tick are taken in by name.
    path = write_inbox_file([record], home.review_inbox, f"decision-{application_id}-{now:%Y%m%dT%H%M%S%f}{'-amendment' * amend}.jsonl")
    if json_out:
        emit_json({**record, "amends": amend, "inbox_file": str(path)})
    else:
        amending = " (an amendment: the latest decision for a case stands)" if amend else ""
        typer.echo(f"{application_id}: {decision} by {reviewer} written to {path}{amending}; `keel review ingest` applies it now")


@review_app.command("export")
@one_line_errors
def export(
    date: str = typer.Option(..., "--date", help="Application day to export (YYYY-MM-DD)."),
    out: Path = typer.Option(..., "--out", help="CSV file to write."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Write the day's pending cases as a CSV for reviewers who work in spreadsheets (fill decision, reviewer, reason)."""
    from keel.decisioning import current_policy
    from keel.review import export_queue_csv

    home = _home()
    queue = _queue(home, _date(date))
    taken = _taken(queue, _waiting(home))
    pending = queue[~queue["application_id"].isin(list(taken))] if len(queue) else queue
    waiting = len(queue) - len(pending) - (int(queue["decision"].notna().sum()) if len(queue) else 0)
    pending = _explained(home, pending) if len(pending) else pending
    path = export_queue_csv(pending.drop(columns=["decision", "reviewer", "reason", "reviewed_at"], errors="ignore"), out, current_policy())
    if json_out:
        emit_json({"date": date, "out": str(path), "cases": len(pending), "waiting_in_inbox": waiting})
    else:
        left_out = f" ({waiting} with a decision waiting in the inbox left out)" if waiting else ""
        typer.echo(f"{len(pending)} pending cases of {date} written to {path}{left_out}")


@review_app.command("import")
@one_line_errors
def import_csv(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A filled-in review sheet from `keel review export`."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Turn the filled rows of a review sheet into an inbox file (rows without a decision are skipped)."""
    from keel.review import import_review_csv, write_inbox_file

    home = _home()
    queue = _queue(home, None)
    queued = set(queue["application_id"]) if len(queue) else set()
    taken = _taken(queue, _waiting(home))
    decisions = import_review_csv(path, why_not=lambda case: taken.get(case) if case in queued else "not in the review queue")
    if not decisions:
        fail(f"{path}: no row has a decision filled in; nothing imported")
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", path.stem)[:60] or "sheet"
    inbox_file = write_inbox_file(decisions, home.review_inbox, f"import-{stem}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%f}.jsonl")
    if json_out:
        emit_json({"imported": len(decisions), "inbox_file": str(inbox_file)})
    else:
        typer.echo(f"{len(decisions)} decisions from {path} written to {inbox_file}; `keel review ingest` applies them now")


@review_app.command("ingest")
@one_line_errors
def ingest(json_out: bool = JSON_OPTION) -> None:
    """Do now what the review sensor does on its next tick: take in the inbox and rebuild final decisions."""
    from keel.orchestrate import execute
    from keel.pipeline import REVIEW_JOB

    home = _home()
    with run_progress("review inbox", shown=not json_out) as on_step:
        outcome = execute(REVIEW_JOB, home, tags={"keel/trigger": "cli"}, on_step=on_step)
    taken = outcome.materializations.get("review_outcomes", {})
    final = outcome.materializations.get("final_decisions", {})
    result = {
        "success": outcome.success,
        "run_id": outcome.run_id,
        "files": int(taken.get("files_ingested") or 0),
        "accepted": int(taken.get("accepted") or 0),
        "rejected": int(taken.get("rejected") or 0),
        "days_touched": [] if taken.get("days_touched") in (None, "none") else str(taken["days_touched"]).split(", "),
        "days_rebuilt": [] if final.get("days_rebuilt") in (None, "none") else str(final["days_rebuilt"]).split(", "),
        "pending": int(final.get("pending_count") or 0),
        "rejected_dir": str(home.review_rejected),
        "failed_checks": [
            {"check": key, "description": check["description"]} for key, check in sorted(outcome.checks.items()) if not check["passed"]
        ],
    }
    if not outcome.success:
        result["failure"] = outcome.failure
    if json_out:
        emit_json(result)
    else:
        typer.echo(
            f"{result['files']} inbox files: {result['accepted']} decisions accepted, {result['rejected']} lines refused "
            f"(reasons in {result['rejected_dir']}); final decisions rebuilt for {', '.join(result['days_rebuilt']) or 'no day'}; "
            f"{result['pending']} cases pending"
        )
    if not outcome.success:
        raise typer.Exit(1)
