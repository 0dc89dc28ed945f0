"""`keel model ...`: train, approve, promote, roll back and list model versions."""

from __future__ import annotations

import typer

from keel.cli.output import JSON_OPTION, emit_json, fail, keel_home as _home, one_line_errors, phase_progress, run_progress
from keel.figures import figure_text

model_app = typer.Typer(help="Model versions: train a candidate, approve it, promote it, roll back.", no_args_is_help=True)
VERSION_ARGUMENT = typer.Argument(..., help="A model version as `keel model list` shows it (m- and 12 hex digits).")


def _store():
    from keel.control_store import ControlStore

    return ControlStore(_home().control_store)


@model_app.command("train")
@one_line_errors
def train(json_out: bool = JSON_OPTION) -> None:
    """Materialize training_set and candidate_model through Dagster; print the candidate's version."""
    from keel.orchestrate import execute
    from keel.runs import TRAINING_JOB, KeelError
    from keel.scoring import CHAMPION

    with run_progress("training", shown=not json_out) as on_step:
        outcome = execute(TRAINING_JOB, _home(), tags={"keel/trigger": "cli"}, on_step=on_step)
    if not outcome.success:
        raise KeelError(f"training failed in run {outcome.run_id}: {outcome.failure}")
    meta = outcome.materializations["candidate_model"]
    from keel.model_lifecycle import gate_failures

    store = _store()
    champion = store.current_alias(CHAMPION)
    result = {
        "version": meta["model_version"],
        "artifact_sha256": meta["artifact_sha256"],
        "metrics": meta["metrics"],
        "gate_passed": bool(meta["gate_passed"]),
        "gate_failures": gate_failures(store.get_model_version(meta["model_version"])),
        "run_id": outcome.run_id,
        "champion": champion,
        "same_as_champion": meta["model_version"] == champion,
        # Candidate and champion on the same holdout (model_evaluation's figures).
        "evaluation": {
            key: value
            for key, value in outcome.materializations.get("model_evaluation", {}).items()
            if key.startswith(("candidate_", "champion_")) or key == "gate_passed"
        },
    }
    if json_out:
        emit_json(result)
    else:
        typer.echo("\n".join(trained_candidate_lines(result)))


def trained_candidate_lines(result: dict) -> list[str]:
    """What `keel model train` prints: the candidate, its gate and metrics, and whether it is the champion already.

    Training is deterministic: the same labelled rows, code and parameters
    give the same model bytes, so the same version. Trained again before new
    outcomes have landed, the "candidate" is the champion itself, and saying
    so saves a reviewer from approving a model that changes nothing.
    """
    lines = [f"candidate {result['version']}  gate {'passed' if result['gate_passed'] else 'FAILED'}  run {result['run_id']}"]
    lines.append(f"  roc_auc {figure_text(result['metrics'].get('roc_auc'))}  brier {figure_text(result['metrics'].get('brier'))}")
    if not result["gate_passed"]:
        lines += gate_failure_lines(result.get("gate_failures") or [])
    if result["same_as_champion"]:
        lines.append(
            "  this is the champion already: the same labelled rows, code and parameters give the same model;"
            " nothing to approve or promote until new outcomes land or the training changes"
        )
    return lines


def gate_failure_lines(failures: list[str]) -> list[str]:
    """The gate's failures, a line each, so that nobody approves a version that cannot be promoted unawares."""
    return [f"  gate: {failure}" for failure in failures]


@model_app.command("approve")
@one_line_errors
def approve(
    version: str = VERSION_ARGUMENT,
    by: str = typer.Option(..., "--by", help="Who approves (recorded with the approval)."),
    reason: str = typer.Option(..., "--reason", help="Why this version may decide: what was looked at."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Record a person's approval of a model version (required before promotion)."""
    from keel.model_lifecycle import approve as approve_version, gate_failures

    approve_version(_home(), version, by=by, reason=reason)
    failures = gate_failures(_store().get_model_version(version))
    if json_out:
        emit_json({"version": version, "approved_by": by, "reason": reason, "gate_failures": failures})
        return
    typer.echo(f"approved {version} by {by}")
    if failures:
        typer.echo("note: it failed the policy's model gate, so promotion stays refused:\n" + "\n".join(gate_failure_lines(failures)))


DRY_RUN_OPTION = typer.Option(False, "--dry-run", help="Show how the last N days' decisions would change; move nothing.")
DAYS_OPTION = typer.Option(7, "--days", min=1, help="With --dry-run: how many of the last decided days to re-decide.")


def _dry_run(version: str, days: int, json_out: bool, refusal: str | None = None) -> None:
    from keel.models.dry_run import decision_flips, flips_text

    home = _home()
    with phase_progress(f"scoring and deciding again with {version}", shown=not json_out) as progress:
        result = {**decision_flips(home, version, days, progress=progress), "dry_run": True, "would_be_refused": refusal}
    if json_out:
        emit_json(result)
        return
    typer.echo(flips_text(result))
    if refusal:
        typer.echo(f"note: the move itself would be refused: {refusal}")


# Promotion and rollback stay one command; the alias move still records who made it.
BY_OPTION = typer.Option(None, "--by", help="Who moves the champion (default: your login name).")


def mover() -> str:
    """The person at the terminal, for an alias move made without --by (the login name; 'cli' if there is none)."""
    import getpass

    try:
        return getpass.getuser() or "cli"
    except (KeyError, OSError):  # no login name in the environment or the password database
        return "cli"


@model_app.command("promote")
@one_line_errors
def promote(
    version: str = VERSION_ARGUMENT,
    by: str = BY_OPTION,
    reason: str = typer.Option("promoted from the CLI", "--reason", help="Why, recorded in the alias history."),
    dry_run: bool = DRY_RUN_OPTION,
    days: int = DAYS_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Make VERSION the champion; refused without an approval and a passing gate. --dry-run shows the decision flips first."""
    from keel.model_lifecycle import PromotionRefused, promotion_refusal, promote as promote_version

    if dry_run:
        _dry_run(version, days, json_out, promotion_refusal(_home(), version))
        return
    try:
        move = promote_version(_home(), version, by=by or mover(), reason=reason)
    except PromotionRefused as refused:
        fail(str(refused))
    emit_json(move) if json_out else typer.echo(f"champion: {move.get('from_version') or '-'} -> {move['to_version']}")


@model_app.command("rollback")
@one_line_errors
def rollback(
    by: str = BY_OPTION,
    reason: str = typer.Option("rolled back from the CLI", "--reason", help="Why, recorded in the alias history."),
    dry_run: bool = DRY_RUN_OPTION,
    days: int = DAYS_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Move the champion back to the version it held before. --dry-run shows the decision flips first."""
    from keel.scoring import CHAMPION

    store = _store()
    if dry_run:
        previous = store.previous_alias_target(CHAMPION)
        if previous is None:
            fail("the champion has no earlier version to roll back to")
        _dry_run(previous, days, json_out)
        return
    move = store.rollback_alias(CHAMPION, by=by or mover(), reason=reason)
    emit_json(move) if json_out else typer.echo(f"champion rolled back: {move.get('from_version')} -> {move['to_version']}")


@model_app.command("set-challenger")
@one_line_errors
def set_challenger(
    version: str = VERSION_ARGUMENT,
    by: str = typer.Option(..., "--by", help="Who sets it (recorded in the alias history)."),
    reason: str = typer.Option(..., "--reason", help="Why, recorded in the alias history."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Score VERSION in shadow beside the champion on every day (policy rollout.challenger_share lets it decide a share).

    Setting the challenger to the champion's own version stops the shadow scoring.
    """
    from keel.decisioning import current_policy
    from keel.model_lifecycle import deciding_refusal

    store = _store()
    if store.get_model_version(version) is None:
        fail(f"model {version} is not in the registry (keel model list shows the versions)")
    policy = current_policy()
    share = policy.rollout.challenger_share
    refusal = deciding_refusal(store, version, to="decide applications") if share > 0 else None
    if refusal:
        fail(
            f"policy {policy.version} lets the challenger decide {share:.0%} of applications (rollout.challenger_share), "
            f"so it needs what a promotion needs: {refusal}"
        )
    move = store.move_alias("challenger", version, by=by, reason=reason)
    emit_json(move) if json_out else typer.echo(f"challenger: {move.get('from_version') or '-'} -> {move['to_version']}")


@model_app.command("list")
@one_line_errors
def list_versions(json_out: bool = JSON_OPTION) -> None:
    """Model versions with their metrics, gate result, approvals and aliases."""
    from keel.model_lifecycle import gate_failures

    store = _store()
    champion, challenger = store.current_alias("champion"), store.current_alias("challenger")
    rows = []
    for record in store.list_model_versions():
        version = record["version"]
        rows.append(
            {
                "version": version,
                "created_at": record["created_at"],
                "artifact_sha256": record["artifact_sha256"],
                "training_window": record["training_window"],
                "roc_auc": (record.get("metrics") or {}).get("roc_auc"),
                "brier": (record.get("metrics") or {}).get("brier"),
                "gate_passed": bool((record.get("gate") or {}).get("passed")),
                "gate_failures": gate_failures(record),
                "approvals": store.approvals_for(version),
                "aliases": [a for a, v in (("champion", champion), ("challenger", challenger)) if v == version],
            }
        )
    if json_out:
        emit_json({"versions": rows, "champion": champion, "challenger": challenger})
        return
    if not rows:
        typer.echo("no model versions yet: `keel demo` trains and promotes the first, `keel model train` a candidate")
    for row in rows:
        typer.echo("\n".join([version_line(row), *gate_failure_lines(row["gate_failures"])]))


def version_line(row: dict) -> str:
    """One model version as `keel model list` prints it (the --json row has the exact figures)."""
    aliases = f"  {' '.join(row['aliases'])}" if row["aliases"] else ""
    return (
        f"{row['version']}  roc_auc {figure_text(row['roc_auc'])}  brier {figure_text(row['brier'])}  "
        f"gate {'ok' if row['gate_passed'] else 'FAILED'}  approvals {len(row['approvals'])}{aliases}"
    )


@model_app.command("history")
@one_line_errors
def history(json_out: bool = JSON_OPTION) -> None:
    """Every alias move: who, when, why, from and to."""
    moves = _store().alias_history()
    if json_out:
        emit_json({"moves": moves})
        return
    if not moves:
        typer.echo("no alias has moved yet: `keel model promote` makes the first champion")
    for move in moves:
        typer.echo(f"{move.get('at')}  {move['alias']}  {move.get('from_version') or '-'} -> {move['to_version']}  by {move.get('by')}: {move.get('reason')}")
