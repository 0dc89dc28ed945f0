"""`keel contract ...`: what a change to a source's data contract would do to the rows it takes in."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from keel.cli.output import JSON_OPTION, emit_json, keel_home as _home, one_line_errors, phase_progress

contract_app = typer.Typer(help="Data contracts: a dry run of a changed contract over the landed files.", no_args_is_help=True)


@contract_app.command("dry-run")
@one_line_errors
def dry_run(
    path: Optional[Path] = typer.Argument(
        None, exists=True, dir_okay=False,
        help="A changed copy of policies/contracts/<source>.yaml; left out, the contract in force against what the runs recorded.",
    ),
    days: int = typer.Option(7, "--days", min=1, help="How many of the last landed files to judge again."),
    source: str = typer.Option("applications", "--source", help="Without a FILE: the source whose files to judge (applications or outcomes)."),
    limit: int = typer.Option(20, "--limit", min=0, help="Rows whose fate would change listed one by one (the counts are always whole)."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Judge the last N landed files again under a changed contract (or the one in force, against what the runs recorded): the rows that would be taken in or held back."""
    from keel.contract_change import contract_flips_text, dry_run as contract_dry_run

    with phase_progress(f"judging again under {path.name if path else 'the contract in force'}", shown=not json_out) as progress:
        result = {**contract_dry_run(_home(), path, days, limit, progress=progress, source=source), "dry_run": True}
    emit_json(result) if json_out else typer.echo(contract_flips_text(result))
