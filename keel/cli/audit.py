"""`keel audit ...`: prove the decision ledger is intact."""

from __future__ import annotations

import typer

from keel.cli.output import emit_json, one_line_errors

audit_app = typer.Typer(help="The audit trail: verify the decision ledger's hash chain.", no_args_is_help=True)


@audit_app.command("verify")
@one_line_errors
def verify(json_out: bool = typer.Option(False, "--json")) -> None:
    """Recompute the ledger's hash chain; exit non-zero naming the first broken day."""
    from keel.home import KeelHome
    from keel.ledger_store import verify as verify_ledger
    from keel.warehouse import connect

    home = KeelHome.from_env()
    with connect(home.warehouse, read_only=True) as con:
        report = verify_ledger(con)
    payload = {"ok": report.ok, "batches_checked": report.batches_checked, "first_broken_day": report.first_broken_day, "reason": report.reason}
    if json_out:
        emit_json(payload)
    elif report.ok:
        typer.echo(f"ledger intact: {report.batches_checked} batches verified")
    else:
        typer.echo(f"ledger BROKEN at {report.first_broken_day} (batch {report.first_broken_batch}): {report.reason}")
    if not report.ok:
        raise typer.Exit(1)
