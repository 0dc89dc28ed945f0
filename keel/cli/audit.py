"""`keel audit ...`: prove the decision ledger is intact."""

from __future__ import annotations

import typer

from keel.cli.output import JSON_OPTION, emit_json, one_line_errors, phase_progress

audit_app = typer.Typer(help="The audit trail: verify the decision ledger's hash chain, export evidence.", no_args_is_help=True)


@audit_app.command("verify")
@one_line_errors
def verify(json_out: bool = JSON_OPTION) -> None:
    """Recompute the ledger's hash chain; exit non-zero naming the first broken day."""
    from keel.home import KeelHome
    from keel.ledger_store import verify as verify_ledger
    from keel.warehouse import connect

    home = KeelHome.from_env()
    with connect(home.warehouse, read_only=True) as con, phase_progress("verifying the ledger", shown=not json_out) as say:
        report = verify_ledger(con, progress=lambda checked, batches: say(f"batch {checked + 1} of {batches}"))
    payload = {"ok": report.ok, "batches_checked": report.batches_checked, "first_broken_day": report.first_broken_day, "reason": report.reason}
    if json_out:
        emit_json(payload)
    elif report.ok:
        typer.echo(f"ledger intact: {report.batches_checked} batches verified")
    else:
        typer.echo(f"ledger BROKEN at {report.first_broken_day} (batch {report.first_broken_batch}): {report.reason}")
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("export")
@one_line_errors
def export(
    first: str = typer.Option(..., "--from", help="First application day (YYYY-MM-DD)."),
    last: str = typer.Option(..., "--to", help="Last application day (YYYY-MM-DD)."),
    out: str = typer.Option(..., "--out", help="An empty or new folder for the bundle."),
    no_pseudonymize: bool = typer.Option(False, "--no-pseudonymize", help="Keep personal data readable (only for an authorized recipient)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """An evidence bundle for auditors: ledger, applications (personal data pseudonymized), versions, contracts,
    check results, drift summary, review measures, approvals and alias history, with a manifest of sha256s."""
    import datetime as dt
    from pathlib import Path

    from keel.audit.export import check_results_for_days, export_bundle
    from keel.cli.output import fail
    from keel.home import KeelHome
    from keel.orchestrate import instance_for

    try:
        start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    except ValueError:
        fail(f"--from {first!r} / --to {last!r}: expected dates as YYYY-MM-DD")
    home = KeelHome.from_env()
    if not home.warehouse.exists():
        fail(f"no warehouse at {home.warehouse}: nothing to export")
    checks = check_results_for_days(instance_for(home), start, end)
    bundle = export_bundle(home, start, end, Path(out), checks, pseudonymize_pii=not no_pseudonymize)
    if json_out:
        emit_json(bundle.to_dict())
    else:
        typer.echo(f"evidence for {', '.join(bundle.days)} written to {bundle.out} ({len(bundle.files)} files, manifest.json lists their sha256)")


@audit_app.command("verify-bundle")
@one_line_errors
def verify_bundle(
    folder: str = typer.Argument(..., help="The bundle's folder, as `keel audit export` wrote it."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Check a handed-over evidence bundle: every file against the manifest's sha256, nothing added, and the ledger
    excerpt's hash chain recomputed. Needs only the folder; exit non-zero naming each problem."""
    import json
    from pathlib import Path

    from keel.audit.export import MANIFEST, verify_bundle as problems_in

    out = Path(folder)
    problems = problems_in(out)
    listed = json.loads((out / MANIFEST).read_text())
    payload = {"ok": not problems, "folder": str(out), "from": listed.get("from"), "to": listed.get("to"), "files_checked": len(listed["files"]), "problems": problems}
    if json_out:
        emit_json(payload)
    elif problems:
        typer.echo(f"bundle {out} does NOT verify ({len(problems)} problem(s)):")
        for problem in problems:
            typer.echo(f"  {problem}")
    else:
        typer.echo(f"bundle intact: {payload['files_checked']} files match {MANIFEST}, the ledger excerpt's chain recomputes ({payload['from']} to {payload['to']})")
    if problems:
        raise typer.Exit(1)
