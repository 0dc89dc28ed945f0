"""keel: run AI decisions in production. `keel --help` lists the commands."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
from pathlib import Path

import typer

from keel.cli.audit import audit_app
from keel.cli.model import model_app
from keel.cli.contract import contract_app
from keel.cli.policy import policy_app
from keel.cli.review import review_app
from keel.cli.output import JSON_OPTION, emit_json, fail, keel_home as _home, one_line_errors, phase_progress, run_progress
from keel.executables import venv_tool
from keel.fault_kinds import FAULT_KINDS

app = typer.Typer(help="keel: the platform around the model. Every command works on $KEEL_HOME (default ./var).", no_args_is_help=True, add_completion=False)
app.add_typer(model_app, name="model")
app.add_typer(policy_app, name="policy")
app.add_typer(contract_app, name="contract")
app.add_typer(audit_app, name="audit")
app.add_typer(review_app, name="review")


def _date(text: str) -> dt.date:
    from keel.landing_zone import parse_date

    return parse_date(text)


def total_line(totals: dict) -> str:
    """The days' totals as `keel demo` prints them: applications, and the outcomes (the delayed labels) taken in."""
    return (
        f"total: received {totals['received']}  accepted {totals['accepted']}  quarantined {totals['quarantined']}  "
        f"duplicates {totals['duplicates']}  auto {totals['decided_auto']}  review {totals['sent_to_review']}; "
        f"outcomes received {totals['outcomes_received']}  accepted {totals['outcomes_accepted']}  "
        f"quarantined {totals['outcomes_quarantined']}  duplicates {totals['outcomes_duplicates']}"
    )


def _print_day(summary: dict) -> None:
    typer.echo("\n".join(day_lines(summary)))


def day_lines(summary: dict) -> list[str]:
    """A day's run as `keel run` and `keel demo` print it: the counts, then what went wrong and where to look.

    Dagster's own console log stays quiet (orchestrate.execute): a blocked
    day is the contract doing its job, and a stack trace would say otherwise.
    """
    from keel.ui_links import run_link

    status = "BLOCKED" if summary.get("blocked") else ("ok" if summary.get("success", True) else "FAILED")
    if summary.get("outcomes_only"):
        lines = [f"{summary['date']}: {status}  no applications landed; the day's outcomes were taken in"]
        if summary.get("applications_rejected"):
            lines.append(f"  applications: {summary['applications_rejected']}")
    else:
        lines = [
            f"{summary['date']}: {status}  received {summary['received']}  accepted {summary['accepted']}  "
            f"quarantined {summary['quarantined']}  duplicates {summary['duplicates']}  "
            f"auto {summary['decided_auto']}  review {summary['sent_to_review']}  model {summary.get('model_version') or '-'}"
        ]
    if summary.get("failure"):
        lines.append(f"  {summary['failure']}")
    if summary.get("outcomes_only") or summary.get("outcomes_quarantined") or summary.get("outcomes_duplicates"):
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted((summary.get("outcomes_quarantined_by_reason") or {}).items()))
        if summary.get("outcomes_blocked"):
            held_back = "the file is held back" + ("" if summary.get("outcomes_only") else ", the day's decisions are not") + ": resend it"
        elif summary.get("outcomes_quarantined"):
            held_back = "each row's reason in raw.outcomes_quarantine"
        elif summary.get("outcomes_duplicates"):
            held_back = "each dropped repeat in raw.outcomes_duplicates"
        else:
            held_back = "every row passed the contract"
        lines.append(
            f"  outcomes: received {summary['outcomes_received']}  accepted {summary['outcomes_accepted']}  "
            f"quarantined {summary['outcomes_quarantined']}" + (f" ({reasons})" if reasons else "")
            + f"  duplicates {summary['outcomes_duplicates']}: {held_back}"
        )
    for check in summary.get("failed_checks") or []:
        description = (check.get("description") or "").strip().splitlines()
        if description and description[0] in (summary.get("failure") or ""):
            continue  # the blocking check: the line above says it
        lines.append(f"  check {check['check']} failed ({check.get('severity') or 'ERROR'})" + (f": {description[0]}" if description else ""))
    if summary.get("run_ids") and (summary.get("failure") or summary.get("failed_checks")):
        lines.append(f"  the run's steps and logs: {run_link(summary['run_ids'][-1])}")
    return lines


@app.command()
@one_line_errors
def prepare() -> None:
    """Parse the dbt project into its manifest (run once at install and after dbt changes)."""
    from resources.dbt import DBT_PROJECT_DIR

    env = {**os.environ, "KEEL_WAREHOUSE": os.environ.get("KEEL_WAREHOUSE", str(_home().warehouse))}
    dbt = venv_tool("dbt")
    result = subprocess.run(
        [str(dbt), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        fail(f"dbt parse failed: {(result.stdout + result.stderr).strip().splitlines()[-1:]}")
    typer.echo(f"dbt manifest ready: {DBT_PROJECT_DIR / 'target' / 'manifest.json'}")


@app.command()
@one_line_errors
def land(
    date: str = typer.Option(..., "--date", help="Day to land, YYYY-MM-DD."),
    fault: str = typer.Option(None, "--fault", help=f"Write a faulty applications file of this kind: {', '.join(FAULT_KINDS)} (what each writes: keel/faults.py)."),
    fmt: str = typer.Option("csv", "--format", help="csv, parquet or jsonl."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Write the day's landing files (applications, and outcomes due that day) from the demo data."""
    from keel.demo_landing import land_day

    paths = land_day(_home(), _date(date), fmt=fmt, fault=fault)
    if json_out:
        emit_json({"date": date, "files": [str(p) for p in paths]})
    else:
        for path in paths:
            typer.echo(f"landed {path}")


@app.command()
@one_line_errors
def run(
    dates: list[str] = typer.Option(..., "--date", help="Day to run, YYYY-MM-DD; --date again for more days, run oldest first."),
    executor: str = typer.Option("in_process", "--executor", help="in_process (fast) or multiprocess (one process per step)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Ingest, score, decide and queue a day through Dagster (a day with only outcomes: take them in); runs show in the UI."""
    from keel.runs import job_to_run, release_abandoned, run_day, sum_days

    home = _home()
    days = sorted({_date(date) for date in dates})
    for released in release_abandoned(home):
        typer.echo(f"keel: {released}", err=True)
    if len(days) == 1:
        with run_progress(days[0].isoformat(), shown=not json_out) as on_step, _say_what_to_rerun(days, 0):
            summary = run_day(home, days[0], executor=executor, on_step=on_step).to_dict()
        emit_json(summary) if json_out else _print_day(summary)
        if summary["blocked"] or not summary["success"]:
            raise typer.Exit(1)
        return
    # Every day is checked before the first runs: a mistyped date or a day already running must not leave the list half run.
    for day in days:
        job_to_run(home, day)
    summaries = []
    for number, day in enumerate(days, start=1):
        with run_progress(f"{day} ({number} of {len(days)})", shown=not json_out) as on_step, _say_what_to_rerun(days, number - 1):
            summaries.append(run_day(home, day, executor=executor, on_step=on_step))
        if not json_out:
            _print_day(summaries[-1].to_dict())
    result = {**sum_days(summaries), "success": all(d.success for d in summaries), "failed_days": [d.date for d in summaries if not d.success]}
    emit_json(result) if json_out else typer.echo(total_line(result))
    if result["blocked_days"] or not result["success"]:
        raise typer.Exit(1)


@contextlib.contextmanager
def _say_what_to_rerun(days: list[dt.date], running: int):
    """If Ctrl-C stops the run of `days[running]`: the command that runs it, and the days after it, again."""
    from keel.orchestrate import RunInterrupted

    try:
        yield
    except RunInterrupted as interrupt:
        again = " ".join(f"--date {day}" for day in days[running:])
        what = "it and the days after it, which did not run" if running + 1 < len(days) else "it again"
        interrupt.rerun = f"to run {what}: keel run {again}"
        raise


@app.command()
@one_line_errors
def status(json_out: bool = JSON_OPTION) -> None:
    """What needs a person today (exit 1 if anything): the source, undecided days, failed runs and checks, overdue reviews."""
    from keel.status import gather, needs_attention

    facts, picture = gather(_home())
    attention = [item.to_dict() for item in needs_attention(facts)]
    result = {**picture, "ok": not attention, "attention": attention}
    if json_out:
        emit_json(result)
    else:
        typer.echo("\n".join(status_lines(result)))
    if attention:
        raise typer.Exit(1)


def status_lines(result: dict) -> list[str]:
    """`keel status` as text: the picture, then what needs a person and what to do."""
    from keel.alerts import run_days_command
    from keel.status import RUN_IS_NEXT

    models, last, review, ledger = result["models"], result["last_decided_day"], result["review"], result["ledger"]
    lines = [f"keel status of {result['home']} at {result['now']}"]
    champion = models["champion"] or "none (the fallback rules decide)"
    since = f" since {models['champion_since'][:16]} by {models['champion_moved_by']}" if models["champion_since"] else ""
    lines.append(f"  model     champion {champion}{since}; challenger {models['challenger'] or 'none'}")
    for candidate in models["candidates"]:
        lines.append(f"            candidate {candidate['version']} ({candidate['created_at'][:16]}): {candidate['state']}")
    policy = result["policy"]
    under = policy["last_day_decided_under"]
    lines.append(f"  policy    {policy['in_force']} in force" + (f"; the last day was decided under {under}" if under and under != policy["in_force"] else ""))
    contract = result["contract"]
    under = contract["last_day_taken_in_under"]
    lines.append(
        f"  contract  applications {contract['in_force']} in force"
        + (f"; the last day was taken in under {under}" if under and under != contract["in_force"] else "")
    )
    if last:
        checks = last["failed_checks"]
        lines.append(
            f"  last day  {last['date']}: {last['decided']} decided (approve {last['approve']}, decline {last['decline']}, review {last['review']}, "
            f"by fallback rules {last['decided_by_fallback']}), model {last['model_version'] or '-'}"
            + (f"; {len(checks)} check(s) failed: " + ", ".join(f"{c['check']} ({c['severity']})" for c in checks) if checks else "")
        )
    else:
        lines.append("  last day  none decided yet: `keel demo`, or land a day's file")
    waiting = result["days_waiting"]
    if waiting is None:
        lines.append("  waiting   not known: a run holds the warehouse")
    else:
        lines.append("  waiting   " + (", ".join(f"{day['date']} ({day['state'].replace('_', ' ')})" for day in waiting) if waiting else "no landed day is waiting"))
        if len(to_run := [day["date"] for day in waiting if day["state"] in RUN_IS_NEXT]) > 1:
            lines.append(f"            run them in one go: `{run_days_command(to_run)}`")
    if result["source"]:
        lines.append(f"  source    {result['source']['message']}")
    oldest = f", the oldest due {review['oldest_due_by'][:16]}" if review["oldest_due_by"] else ""
    held_back = {source: counts for source, counts in (result["held_back"] or {}).items() if counts["rows"]}
    if result["held_back"] is not None:
        lines.append(
            "  held back "
            + (", ".join(f"{source} {c['rows']} row(s) on {c['days']} day(s)" for source, c in held_back.items()) + " (`keel quarantine`)" if held_back else "no row")
        )
    lines.append(f"  review    {review['waiting']} case(s) waiting, {review['overdue']} overdue{oldest}")
    if result["monitoring"]:
        lines.append(f"  drift     {result['monitoring']['day']}: {result['monitoring']['severity']}")
    if ledger:
        lines.append(
            f"  ledger    {ledger['batches']} batches; the last appended at {ledger['appended_at'][:16]}: {ledger['last_rows']} {ledger['last_event_type']} "
            f"records of {ledger['last_day']}, digest {ledger['last_digest'][:12]} (`keel audit verify` recomputes the chain)"
        )
    for job, run in sorted(result["last_runs"].items()):
        of = f" of {run['partition']}" if run["partition"] else ""
        lines.append(f"  run       {job}{of}: {run['status'].lower()}" + (f" at {run['ended_at'][:16]}" if run["ended_at"] else "") + f" ({run['run_id'][:8]})")
    if result["warehouse_busy"]:
        lines.append("  (a run held the warehouse: its figures are not shown; try again when it ends)")
    if not result["attention"]:
        lines.append("nothing needs a person")
        return lines
    lines.append(f"needs a person ({len(result['attention'])}):")
    for item in result["attention"]:
        lines += [f"  - {item['message']}", f"    next: {item['next_step']}"]
    return lines


@app.command()
@one_line_errors
def backup(
    out: Path = typer.Option(..., "--out", help="The archive to write (.tar.gz or .tgz), outside KEEL_HOME; never overwritten."),
    json_out: bool = JSON_OPTION,
) -> None:
    """A consistent copy of KEEL_HOME while the UI and daemon run (refused while a run is in progress)."""
    from keel.backup import take_backup

    with phase_progress("backing up", shown=not json_out) as say:
        result = take_backup(_home(), out, progress=say)
    if json_out:
        emit_json(result.to_dict())
        return
    typer.echo(f"backed up {result.files} files to {result.archive} ({result.bytes:,} bytes, sha256 {result.sha256})")
    if result.includes_pseudonym_key:
        typer.echo("it holds the pseudonym key (secrets/): keep the archive where only those who may see personal data can read it")


@app.command()
@one_line_errors
def restore(
    archive: Path = typer.Argument(..., help="An archive `keel backup` wrote."),
    into: Path = typer.Option(..., "--into", help="A new or empty folder: the restored KEEL_HOME."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Unpack a backup into a new folder, every file checked against its manifest; then KEEL_HOME=<folder>."""
    from keel.backup import restore_backup

    with phase_progress("restoring", shown=not json_out) as say:
        result = restore_backup(archive, into, progress=say)
    if json_out:
        emit_json(result.to_dict())
        return
    typer.echo(
        f"restored {result.files} files into {result.home} (backed up from {result.from_home} at {result.created_at}); "
        f"next: KEEL_HOME={result.home} keel audit verify"
    )


@app.command()
@one_line_errors
def quarantine(
    date: str = typer.Option(None, "--date", help="One day (YYYY-MM-DD); every day if left out."),
    source: str = typer.Option("applications", "--source", help="applications or outcomes."),
    export: Path = typer.Option(None, "--export", help="With --date: write the day's held-back rows as received, each with its problems, to this CSV."),
    limit: int = typer.Option(50, "--limit", min=0, help="How many rows to list; the counts are of every row."),
    json_out: bool = JSON_OPTION,
) -> None:
    """The rows a source delivered that are held back (quarantined, not taken in since): per day, and each row's problems."""
    from keel import warehouse as wh
    from keel.held_back import held_back_by_day, held_back_records, rows_with_problems, write_export
    from keel.landing_zone import SOURCES

    if source not in SOURCES:
        fail(f"--source {source!r}: expected one of {', '.join(SOURCES)}")
    day = _date(date).isoformat() if date is not None else None
    if export is not None and day is None:
        fail("--export needs --date: a corrected file is sent for one day")
    home = _home()
    if not home.warehouse.exists():
        fail(f"no warehouse at {home.warehouse}: run `keel demo` or `keel run --date D` first")
    with wh.connect(home.warehouse, read_only=True) as con:
        days = [entry for entry in held_back_by_day(con, source) if day is None or entry["date"] == day]
        if export is not None and not days:
            fail(f"no {source} row of {day} is held back: nothing to export")
        rows = rows_with_problems(held_back_records(con, source, day, rows=limit))
        written = write_export(home, con, source, day, export) if export is not None else None
    result = {
        "source": source,
        "date": day,
        "rows_held_back": sum(entry["rows"] for entry in days),
        "days": days,
        "rows": rows,
        "export": {"path": str(written.path), "rows": written.rows, "files": written.files} if written else None,
    }
    if json_out:
        emit_json(result)
        return
    typer.echo("\n".join(quarantine_lines(result)))


def quarantine_lines(result: dict) -> list[str]:
    """`keel quarantine` as text: the days, the rows listed with their problems, the export and what to do next."""
    source, days, held = result["source"], result["days"], result["rows_held_back"]
    of = f" of {result['date']}" if result["date"] else ""
    if not held:
        return [f"no {source} row{of} is held back"]
    lines = [f"{source}{of}: {held} row(s) held back on {len({d['date'] for d in days})} day(s)"]
    for entry in days:
        checks = ", ".join(f"{check} {count}" for check, count in entry["rows_by_check"].items())
        lines.append(f"  {entry['date']}  {entry['source_file']}: {entry['rows']} row(s) ({checks})")
    if result["rows"]:
        lines.append(f"rows (the first {len(result['rows'])} of {held}):" if len(result["rows"]) < held else "rows:")
    for row in result["rows"]:
        key = f" ({row['application_id']})" if row["application_id"] else " (no application_id)"
        lines.append(f"  {row['date']} {row['source_file']} row {row['row_number']}{key}:")
        lines += [f"      {p['column'] or 'row'} ({p['check']}): {p['reason']}" for p in row["problems"]]
    if result["export"]:
        lines.append(f"wrote {result['export']['rows']} row(s) as received, each with its problems, to {result['export']['path']}")
    option = "" if source == "applications" else " --source outcomes"
    lines.append(
        "next: the source sends a corrected file for the day, which takes them in"
        + ("" if result["export"] else f" (`keel quarantine{option} --date D --export held_back.csv` gives it the rows)")
    )
    return lines


@app.command()
@one_line_errors
def freshness(json_out: bool = JSON_OPTION) -> None:
    """Check that each daily source delivered by its contract's cutoff (exit 1 on an outage)."""
    from keel.orchestrate import execute
    from keel.pipeline import FRESHNESS_JOB

    outcome = execute(FRESHNESS_JOB, _home(), tags={"keel/trigger": "cli"})
    checks = [{"check": key, "passed": c["passed"], "message": c["description"]} for key, c in sorted(outcome.checks.items())]
    result = {"ok": outcome.success and all(c["passed"] for c in checks), "checks": checks, "run_id": outcome.run_id}
    if json_out:
        emit_json(result)
    else:
        for check in checks:
            typer.echo(f"{'ok     ' if check['passed'] else 'OUTAGE '} {check['message']}")
    if not result["ok"]:
        raise typer.Exit(1)


@app.command()
@one_line_errors
def demo(
    days: int = typer.Option(5, "--days", min=1, help="Live days to replay after the history."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing if the instance already has runs."),
    scenario: str = typer.Option("none", "--scenario", help="none (the real data) or drift (incomes fall, a new job category, more bad repayments)."),
    drift_from_day: int = typer.Option(None, "--drift-from-day", min=1, help="With --scenario drift: the live day (1 = the first) from which the data shifts; default: the first day whose week-old outcomes have landed, or the last day."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Land a labelled history, train and promote the first model, then land and run N days.

    After each day, does what the drift sensor does under `keel serve`: a drift or
    performance check failing at alert level raises one alert (reports/alerts.jsonl,
    KEEL_ALERT_WEBHOOK) and trains a candidate model, which is not promoted.
    """
    from rich.progress import Progress

    from keel.demo_calendar import DemoCalendar
    from keel.orchestrate import execute, instance_has_history
    from keel.pipeline import REVIEW_JOB
    from keel.demo_landing import land_day, land_drift_scenario_day
    from keel.runs import bootstrap_history, respond_to_incidents, run_day, sum_days
    from keel.scenarios import resolve_drift_start

    home = _home()
    if instance_has_history(home):
        # The demo starts a home from its history: on one that has run, it would train its first model
        # again on every outcome landed since, and stop at the gate or shadow the home's own champion.
        if not if_empty:
            fail(
                f"{home.root} already has runs: keel demo starts a home from scratch. Use a fresh KEEL_HOME, "
                "`keel run --date D` for further days, or --if-empty to skip quietly"
            )
        if json_out:
            emit_json({"skipped": True, "home": str(home.root), "reason": "the instance already has runs"})
        else:
            typer.echo(f"{home.root} already has runs: skipping the demo (remove it to start again)")
        return
    calendar = DemoCalendar()
    if days > calendar.live_days:
        fail(f"the demo data covers {calendar.live_days} live days; ask for at most that many")
    drift_start = resolve_drift_start(scenario, drift_from_day, days, calendar.outcome_delay_days)
    drift_from = calendar.live_dates(days)[drift_start - 1] if drift_start else None
    summaries = []
    alerts, candidates, cursor = [], [], None
    with Progress(transient=json_out, disable=json_out) as progress:
        task = progress.add_task("history", total=days + 1)
        boot = bootstrap_history(home, calendar, progress=lambda msg: progress.update(task, description=msg))
        progress.advance(task)
        for day in calendar.live_dates(days):
            progress.update(task, description=f"day {day}")
            if drift_from is None:
                land_day(home, day, calendar)
            else:
                land_drift_scenario_day(home, day, calendar, drift_from)
            summaries.append(run_day(home, day))
            response = respond_to_incidents(home, cursor)
            cursor = response.cursor
            for alert in response.alerts:
                typer.echo(alert["text"], err=True)
            alerts += response.alerts
            candidates += response.candidate_models
            progress.advance(task)
        # What the review sensor does under `keel serve`: the days' final decisions (reviews pending).
        progress.update(task, description="final decisions")
        reviewed = execute(REVIEW_JOB, home, tags={"keel/trigger": "keel-demo"})
    result = {
        **sum_days(summaries),
        "first_model_version": boot["model_version"],
        "bootstrap_run_ids": boot["run_ids"],
        "scenario": scenario,
        "drift_from": drift_from.isoformat() if drift_from else None,
        "alerts": alerts,
        "candidate_models": candidates,
        "review_run_id": reviewed.run_id,
    }
    if json_out:
        emit_json(result)
    else:
        for day in result["days"]:
            _print_day(day)
        typer.echo(total_line(result))
        for alert in alerts:
            typer.echo(f"alert {alert['incident']}: {', '.join(alert['features']) or alert['kind']} (report {alert['report']})")
        for candidate in candidates:
            typer.echo(candidate_line(candidate))
    if any(not d.success for d in summaries) or any(not c["success"] for c in candidates) or not reviewed.success:
        raise typer.Exit(1)


def candidate_line(candidate: dict) -> str:
    """What the demo says of a retraining's candidate; one that is the champion itself is not offered for approval."""
    if candidate["same_as_champion"]:
        return (
            f"retraining for {candidate['incident']} gave the champion itself, {candidate['model_version']}: no outcomes "
            "have landed since it was trained, so nothing to approve; train again (keel model train) once the outcomes of the days since land"
        )
    return (
        f"candidate {candidate['model_version']} for {candidate['incident']}: gate "
        f"{'passed' if candidate['gate_passed'] else 'failed'}, not promoted (keel model approve / promote)"
    )


@app.command()
@one_line_errors
def explain(
    application_id: str = typer.Argument(..., help="The application (A + 6 to 9 digits)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """The whole story of one application: source row, contract, features, score, policy, route, reviewer, outcome, runs."""
    from keel import warehouse as wh
    from keel.audit.explain import NotDecided, NotFound, explain_application
    from keel.decisioning import current_policy

    home = _home()
    if not home.warehouse.exists():
        fail(f"no warehouse at {home.warehouse}: run `keel demo` first")
    try:
        with wh.connect(home.warehouse, read_only=True) as con:
            record = explain_application(con, application_id, current_policy())
    except NotDecided as undecided:
        # What became of it is the answer, but no decision stands: exit 1 as before, with the record.
        if json_out:
            emit_json(undecided.record)
            raise typer.Exit(1)
        fail(str(undecided))
    except (NotFound, ValueError) as problem:
        fail(str(problem))
    if json_out:
        emit_json(record)
    else:
        typer.echo("\n".join(record["story"]))


def one_day_given(argument: str | None, option: str | None) -> str:
    """The day a command was given, as its argument or as --date (the other commands' form); refused if neither or two differ."""
    if argument is None and option is None:
        raise ValueError("which day? give it as YYYY-MM-DD or --date YYYY-MM-DD")
    if argument is not None and option is not None and argument != option:
        raise ValueError(f"two days given: {argument} and --date {option}; give one")
    return argument if argument is not None else option


@app.command()
@one_line_errors
def replay(
    date: str = typer.Argument(None, help="The application day to replay (YYYY-MM-DD); or give it as --date."),
    date_option: str = typer.Option(None, "--date", help="The same day, as `keel run` and `keel land` take it."),
    keep: bool = typer.Option(False, "--keep", help="Keep the scratch KEEL_HOME for inspection."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Re-run a past day from its landing file with its recorded versions in a scratch home; MATCH or the differences."""
    import shutil
    import tempfile

    from keel.audit.replay import ReplayError, replay_day

    day = _date(one_day_given(date, date_option)).isoformat()
    home = _home()
    if not home.warehouse.exists():
        fail(f"no warehouse at {home.warehouse}: nothing has been decided to replay")
    scratch = Path(tempfile.mkdtemp(prefix=f"keel-replay-{day}-"))
    try:
        with phase_progress(f"replay {day}", shown=not json_out) as progress:
            result = replay_day(home, day, scratch / "home", progress=progress)
    except ReplayError as problem:
        fail(str(problem))
    finally:
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)
    if json_out:
        emit_json(result.to_dict())
    elif result.match:
        versions = result.recorded_versions
        challenger = f", challenger {versions['challenger_version']} deciding its rollout share" if versions.get("challenger_version") else ""
        typer.echo(f"MATCH {day}: {result.rows_replayed} decisions replayed byte for byte (model {versions['model_version']}{challenger}, "
                   f"policy {versions['policy_version']}, contract {versions['contract_version']})")
    else:
        typer.echo(f"DIFFERENT {day}: {len(result.differences)} cells differ, {len(result.missing_rows)} rows missing, {len(result.extra_rows)} extra")
        for diff in result.differences[:50]:
            typer.echo(f"  {diff['application_id']}  {diff['column']}: recorded {diff['recorded']!r}, replayed {diff['replayed']!r}")
        for application_id in result.missing_rows[:20]:
            typer.echo(f"  {application_id}: recorded, not replayed")
        for application_id in result.extra_rows[:20]:
            typer.echo(f"  {application_id}: replayed, not recorded")
    if not result.match:
        raise typer.Exit(1)


@app.command()
@one_line_errors
def bench(
    rows: int = typer.Option(100_000, "--rows", min=1, help="Applications in the scaled day."),
    executor: str = typer.Option("multiprocess", "--executor", help="multiprocess (as in production) or in_process."),
    json_out: bool = JSON_OPTION,
) -> None:
    """One scaled day through the real daily job vs. a bare script: wall time per stage, rows/s, peak memory."""
    import tempfile

    from rich.progress import Progress

    from keel.bench.daily_path import run_benchmark

    with tempfile.TemporaryDirectory(prefix="keel-bench-") as workdir, Progress(transient=True, disable=json_out) as progress:
        task = progress.add_task("bench", total=None)
        result = run_benchmark(rows, Path(workdir), progress=lambda msg: progress.update(task, description=msg), executor=executor)
    if json_out:
        emit_json(result)
    else:
        typer.echo(
            f"{result['rows']:,} rows: keel {result['keel_s']} s, baseline {result['baseline_s']} s, ratio {result['ratio']}x; "
            f"{result['rows_per_s']:,} rows/s; peak RSS {result['peak_rss_mb']} MB"
        )
        if result["first_step_after_s"] is not None:
            typer.echo(f"  {result['first_step_after_s']:8.2f} s  (the run's start to its first step)")
        for step, seconds in result["stages"].items():
            typer.echo(f"  {seconds:8.2f} s  {step}")
        typer.echo(f"  {result['between_steps_s']:8.2f} s  (between the steps: starting each next one)")
        typer.echo("  baseline: " + ", ".join(f"{name} {seconds} s" for name, seconds in result["baseline_stages"].items()))
        if result["overhead"]:
            overhead = result["overhead"]
            typer.echo(
                f"  around the scoring: keel {overhead['around_scoring_s']} s, baseline {overhead['baseline_around_scoring_s']} s; "
                f"keel outside the steps {overhead['outside_steps_s']} s"
            )
    if not result["success"]:
        fail(f"the benchmark day's run failed: {result['failure']} (run {result['run_id']})")


@app.command("bench-runs")
@one_line_errors
def bench_runs(
    job: str = typer.Option("daily_decisioning", "--job", help="The job whose runs to read."),
    last: int = typer.Option(None, "--last", min=1, help="Only the latest N successful runs."),
    json_out: bool = JSON_OPTION,
) -> None:
    """How long this KEEL_HOME's successful runs of a job took: median and longest, per run and per step."""
    from keel.bench.run_times import successful_run_times, summarize_run_times
    from keel.orchestrate import instance_for

    home = _home()
    result = summarize_run_times(job, successful_run_times(instance_for(home), job, last))
    if json_out:
        emit_json(result)
        return
    if not result["runs"]:
        typer.echo(f"no successful runs of {job} in {home.root}")
        return
    typer.echo(f"{result['runs']} successful runs of {job}: median {result['run_s']['median']} s, longest {result['run_s']['max']} s")
    for step, spread in result["steps"].items():
        typer.echo(f"  {spread['median']:8.2f} s median  {spread['max']:8.2f} s longest  {step} ({spread['runs']} runs)")


@app.command("bench-ingest")
@one_line_errors
def bench_ingest(
    rows: int = typer.Option(1_000_000, "--rows", min=1, help="Applications in the scaled day."),
    fmt: str = typer.Option("csv", "--format", help="Landing file format: csv, parquet or jsonl."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Time the ingest step of one scaled day: read, data contract (and its parts), store; no Dagster."""
    import tempfile

    from keel.bench.ingest import measure_ingest

    if fmt not in ("csv", "parquet", "jsonl"):
        fail(f"--format must be csv, parquet or jsonl; found {fmt!r}")
    with tempfile.TemporaryDirectory(prefix="keel-bench-ingest-") as workdir:
        timings = measure_ingest(rows, Path(workdir), fmt).to_dict()
    if json_out:
        emit_json(timings)
        return
    typer.echo(
        f"{timings['rows']:,} rows ({timings['file_mb']} MB {fmt}): ingest {timings['ingest_s']} s = read {timings['read_s']} s"
        f" + contract {timings['contract_s']} s + store {timings['store_s']} s; {timings['rows_per_s']:,} rows/s"
    )
    parts = ", ".join(f"{name} {seconds} s" for name, seconds in timings["contract_parts_s"].items())
    typer.echo(f"contract: {parts}")
    typer.echo(
        f"contract step {timings['contract_share']:.0%} of ingest; value validation (pandera checks and quarantine records) "
        f"{timings['validate_share']:.0%}; peak RSS {timings['peak_rss_mb']} MB"
    )


@app.command("bench-model")
@one_line_errors
def bench_model(
    repeats: int = typer.Option(3, "--repeats", min=1, help="Repeats of the cross-validation, each with its own folds."),
    folds: int = typer.Option(5, "--folds", min=2, help="Cross-validation folds per repeat."),
    predict_rows: int = typer.Option(200_000, "--predict-rows", min=1, help="Applications scored to time each model."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Compare the model's calibrated ensemble (five models) with one calibrated model: quality on the seed, scoring time."""
    from rich.progress import Progress

    from keel.bench.model_variants import METRICS, compare_calibration_ensemble

    with Progress(transient=True, disable=json_out) as progress:
        task = progress.add_task("model", total=None)
        result = compare_calibration_ensemble(repeats, folds, predict_rows, progress=lambda msg: progress.update(task, description=msg))
    if json_out:
        emit_json(result)
        return
    for name, figures in result["variants"].items():
        quality = ", ".join(f"{metric} {figures[metric + '_mean']} ± {figures[metric + '_std']}" for metric in METRICS)
        typer.echo(f"{name} ({figures['trees_per_prediction']} trees a prediction): {quality}; {result['predict_rows']:,} rows scored in {figures['predict_s']} s")
    difference = result["ensemble_less_single"]
    typer.echo(
        "ensemble less single, paired over "
        f"{result['repeats'] * result['folds']} folds: "
        + ", ".join(f"{metric} {difference[metric + '_mean']} ± {difference[metric + '_std']}" for metric in METRICS)
        + f"; the single model scores {result['single_speedup']}x as fast"
    )


@app.command("bench-overhead")
@one_line_errors
def bench_overhead(
    loads: int = typer.Option(5, "--loads", min=1, help="Definitions loads, each in a fresh interpreter."),
    files: int = typer.Option(1_000, "--files", min=0, help="New files landed for the sensor ticks."),
    home: Path | None = typer.Option(
        None, "--home", exists=True, file_okay=False, help="A KEEL_HOME to copy for the sensor ticks (it is not touched); by default the demo's first days."
    ),
    demo_days: int = typer.Option(2, "--demo-days", min=1, help="Without --home: demo days run first, for the sensors to look at."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Time what keel costs outside a run: loading the definitions, and each sensor's and schedule's first and next tick."""
    import tempfile

    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from keel.bench.overhead import measure_overhead

    with tempfile.TemporaryDirectory(prefix="keel-bench-overhead-") as workdir, Progress(transient=True, disable=json_out) as progress:
        task = progress.add_task("overhead", total=None)
        result = measure_overhead(
            Path(workdir), loads, files, progress=lambda msg: progress.update(task, description=msg), home=home, demo_days=demo_days
        )
    if json_out:
        emit_json(result)
        return
    typer.echo(
        f"definitions load: median {result['definitions_load_median_s']} s, max {result['definitions_load_max_s']} s "
        f"({', '.join(map(str, result['definitions_load_s']))})"
    )
    table = Table(
        title=f"ticks on {result['sensor_home']}, {result['landing_files']:,} new landing files "
        f"({result['landing_files_before_first_day']} dated before the first day); runs: runs requested"
    )
    table.add_column("sensor or schedule", no_wrap=True)
    for column in ("first tick s", "runs", "next tick s", "runs"):
        table.add_column(column, justify="right")
    table.add_column("first tick imported")
    for name, tick in result["sensor_ticks"].items():
        table.add_row(
            name,
            f"{tick['first_tick_s']:.3f}",
            str(tick["first_tick_run_requests"]),
            f"{tick['next_tick_s']:.3f}",
            str(tick["next_tick_run_requests"]),
            ", ".join(tick["libraries_imported"]) or "-",
        )
    Console().print(table)
    typer.echo(f"slowest tick: {result['sensor_tick_max_s']} s")


@app.command("bench-overlap")
@one_line_errors
def bench_overlap(
    days: int = typer.Option(3, "--days", min=2, help="Demo days landed together, run one after another and then all at once."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Time days whose runs overlap (as the daemon runs files landed together) against the same days one after another."""
    import tempfile

    from rich.progress import Progress

    from keel.bench.overlap import run_overlap_benchmark

    with tempfile.TemporaryDirectory(prefix="keel-bench-overlap-") as workdir, Progress(transient=True, disable=json_out) as progress:
        task = progress.add_task("overlap", total=None)
        result = run_overlap_benchmark(days, Path(workdir), progress=lambda msg: progress.update(task, description=msg))
    if json_out:
        emit_json(result)
    else:
        typer.echo(
            f"{len(result['days'])} days ({result['days'][0]} .. {result['days'][-1]}): one after another {result['one_after_another_s']} s, "
            f"all at once {result['together_s']} s ({result['ratio']}x); {result['decisions']} decisions, "
            + ("the same both ways" if result["same_decisions"] else "NOT the same both ways")
        )
        for failure in result["failures"]:
            typer.echo(f"  failed: {failure}")
    if result["failures"] or not result["same_decisions"]:
        raise typer.Exit(1)


SUPERSEDED_DEV_WARNING = "ignore:Function `dev_command` is superseded"


@app.command()
@one_line_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind; keep 127.0.0.1 unless you put auth in front."),
    port: int = typer.Option(3000, "--port", help="Port of the UI (http://HOST:PORT)."),
    review_port: int = typer.Option(3001, "--review-port", help="Port of the review page (http://HOST:REVIEW_PORT)."),
    review_page: bool = typer.Option(True, "--review-page/--no-review-page", help="Serve the review page too (keel review serve)."),
    check_only: bool = typer.Option(False, "--check", help="Only check that the ports are free (exit 1 naming one if not); start nothing."),
) -> None:
    """Serve the Dagster UI and daemon (schedules and sensors on), and the review page, for this KEEL_HOME."""
    from keel.ui_links import UI_URL_ENV
    from keel.companion import start_companion
    from keel.home import REPO_ROOT
    from keel.ports import ensure_port_free

    # Both before the daemon starts: it would run on without the UI, or the reviewers without their page.
    ensure_port_free(host, port)
    if review_page:
        if review_port == port:
            fail(f"the UI and the review page cannot share port {port}: choose another --review-port")
        ensure_port_free(
            host, review_port, port_option="--review-port", make_variable="REVIEW_PORT",
            earlier="`keel serve`, `make run` or `keel review serve`",
        )
    if check_only:
        typer.echo(f"{host}:{port} is free" + (f", and {host}:{review_port} for the review page" if review_page else ""))
        return
    home = _home()
    prepare()  # pick up dbt model changes made since install
    dagster = venv_tool("dagster")
    # Subprocesses (code server, dbt) find the tools of this environment first.
    os.environ["PATH"] = f"{Path(dagster).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    # `dagster dev` is what serves the UI and the daemon here; its advice to use `dg dev` instead is not for keel's users.
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), SUPERSEDED_DEV_WARNING]))
    # Links the served processes write (a failed run's alert, a run's log lines) point at this UI.
    os.environ.setdefault(UI_URL_ENV, f"http://{host}:{port}")
    typer.echo(f"Dagster UI on http://{host}:{port} (KEEL_HOME={home.root})")
    if review_page:
        # Stopped by the kernel when the process that is about to become `dagster dev` ends.
        start_companion([venv_tool("keel"), "review", "serve", "--host", host, "--port", str(review_port)])
    # From the instance's folder: `dagster dev` warns of any dagster.yaml in its working directory
    # other than $DAGSTER_HOME's, and the repository's is the template keel copied there.
    os.chdir(home.dagster_home)
    # `dagster dev` turns SIGTERM into whatever SIGINT does, and an ignored SIGINT survives exec:
    # started in the background of a script (`make run &`), it would then ignore `kill` too.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execv(str(dagster), [str(dagster), "dev", "-h", host, "-p", str(port), "-w", str(REPO_ROOT / "workspace.yaml")])


def main() -> None:
    app()


if __name__ == "__main__":
    main()
