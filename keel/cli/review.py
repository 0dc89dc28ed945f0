"""`keel review ...`: the review queue out to reviewers and their decisions back in."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import typer

from keel.cli.output import JSON_OPTION, emit_json, fail, keel_home as _home, one_line_errors, run_progress

review_app = typer.Typer(
    help="Human review: list the queue, decide, export/import spreadsheets, ingest the inbox, serve the review page.", no_args_is_help=True
)


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"--date {text!r} is not a date; expected YYYY-MM-DD")


def _queue(home, day: dt.date | None):
    from keel.review.desk import read_queue_of

    return read_queue_of(home, day)


@review_app.command("list")
@one_line_errors
def list_cases(
    date: str = typer.Option(None, "--date", help="Only the cases queued for this application day (YYYY-MM-DD)."),
    all_cases: bool = typer.Option(False, "--all", help="Include cases already decided."),
    limit: int = typer.Option(None, "--limit", min=1, help="Show at most N cases, the oldest first (the counts still cover all)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """The cases waiting for a reviewer (oldest first), with score, reasons, top features and due-by time."""
    from keel.review.desk import list_cases as desk_cases

    found = desk_cases(_home(), _date(date), all_cases=all_cases, limit=limit)
    shown, pending, decided, late, listed = found.cases, found.pending, found.decided, found.overdue, found.listed
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
    from keel.review.desk import write_decision

    written = write_decision(_home(), application_id, decision, reviewer, reason, amend=amend)
    record, path = written.record, written.inbox_file
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
    from keel.review.desk import explained, taken_cases, waiting_in_inbox

    home = _home()
    queue = _queue(home, _date(date))
    taken = taken_cases(queue, waiting_in_inbox(home))
    pending = queue[~queue["application_id"].isin(list(taken))] if len(queue) else queue
    waiting = len(queue) - len(pending) - (int(queue["decision"].notna().sum()) if len(queue) else 0)
    pending = explained(home, pending) if len(pending) else pending
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
    from keel.review.desk import taken_cases, waiting_in_inbox

    home = _home()
    queue = _queue(home, None)
    queued = set(queue["application_id"]) if len(queue) else set()
    taken = taken_cases(queue, waiting_in_inbox(home))
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


@review_app.command("serve")
@one_line_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; keep 127.0.0.1 unless you put auth in front."),
    port: int = typer.Option(3001, "--port", help="Port of the review page (http://HOST:PORT)."),
) -> None:
    """Serve the review page: the queue in a browser, each case approved or declined with a reason into the inbox."""
    import uvicorn

    from keel.ports import ensure_port_free
    from keel.web.review_page import review_page_app

    ensure_port_free(host, port, served_by="keel review serve", make_variable=None, earlier="`keel review serve`, `keel serve` or `make run`")
    home = _home()
    app = review_page_app(home, host)
    typer.echo(f"Review page on http://{host}:{port} (KEEL_HOME={home.root}); decisions go to {home.review_inbox}")
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False)
