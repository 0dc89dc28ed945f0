"""`keel policy ...`: the decision policy in force, its history, and what a change to it would do."""

from __future__ import annotations

from pathlib import Path

import typer

from keel.cli.output import JSON_OPTION, emit_json, keel_home as _home, one_line_errors, phase_progress

policy_app = typer.Typer(help="The decision policy: its versions in force, and a dry run of a changed file.", no_args_is_help=True)


@policy_app.command("dry-run")
@one_line_errors
def dry_run(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A changed copy of policies/credit_policy.yaml."),
    days: int = typer.Option(7, "--days", min=1, help="How many of the last decided days to decide again."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Decide the last N days again under a changed policy file: the settings changed and the routes that would flip."""
    from keel.decisioning import current_policy
    from keel.policy import load_policy
    from keel.policy_change import policy_flips, policy_flips_text

    home, in_force, candidate = _home(), current_policy(), load_policy(path)
    with phase_progress(f"deciding again under {candidate.version}", shown=not json_out) as progress:
        result = {**policy_flips(home, in_force, candidate, days, progress=progress), "dry_run": True}
    emit_json(result) if json_out else typer.echo(policy_flips_text(result))


@policy_app.command("history")
@one_line_errors
def history(json_out: bool = JSON_OPTION) -> None:
    """Every policy version (and content hash) that decided applications, with when it was first in force."""
    from keel.control_store import ControlStore

    versions = ControlStore(_home().control_store).policy_history()
    if json_out:
        emit_json({"versions": versions})
        return
    if not versions:
        typer.echo("no policy has decided an application in this KEEL_HOME yet")
    for row in versions:
        typer.echo(f"{row['at']}  policy {row['version']}  sha256 {row['sha256'][:12]}  owner {row['owner']}  effective {row['effective_date']}")
