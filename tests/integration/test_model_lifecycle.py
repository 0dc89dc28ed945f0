"""The model lifecycle from the CLI: train, dry-run, approve, promote, roll back — also while a run is going."""

import json
import os
import subprocess

import pytest

from tests.integration.helpers import KEEL, keel, keel_json

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lifecycle(demo_copy):
    """A candidate trained after the first live outcomes landed (so it differs from the champion)."""
    home, summary = demo_copy
    keel(home, "land", "--date", "2026-01-08")  # outcomes of 2026-01-01 land a week later
    keel(home, "run", "--date", "2026-01-08")
    trained = keel_json(home, "model", "train")
    return home, summary["first_model_version"], trained


def test_train_reports_version_metrics_and_gate(lifecycle):
    _home, champion, trained = lifecycle
    assert trained["version"].startswith("m-") and trained["version"] != champion
    assert 0.5 < trained["metrics"]["roc_auc"] <= 1 and isinstance(trained["gate_passed"], bool)


def test_dry_run_shows_flips_and_moves_nothing(lifecycle):
    home, champion, trained = lifecycle
    same = keel_json(home, "model", "promote", champion, "--dry-run")
    assert same["flipped"] == 0, "re-deciding with the champion itself reproduces every recorded route"
    result = keel_json(home, "model", "promote", trained["version"], "--dry-run", "--days", "4")
    assert result["dry_run"] and result["from_version"] == champion and result["to_version"] == trained["version"]
    assert result["applications"] == 400 and len(result["days"]) == 4
    assert sum(result["flips"].values()) == result["flipped"] == sum(result["flips_by_day"].values())
    assert "no approval" in result["would_be_refused"]
    assert keel_json(home, "model", "list")["champion"] == champion


def test_promotion_needs_approval_then_moves_and_rolls_back(lifecycle):
    home, champion, trained = lifecycle
    refused = keel(home, "model", "promote", trained["version"], check=False)
    assert refused.returncode != 0 and "no approval" in refused.stderr + refused.stdout
    keel(home, "model", "approve", trained["version"], "--by", "risk-officer", "--reason", "holdout and segments reviewed")
    if not trained["gate_passed"]:
        pytest.skip("this candidate failed the gate: promotion is refused, as tested in the unit tests")
    moved = keel_json(home, "model", "promote", trained["version"], "--by", "risk-officer", "--reason", "better calibrated")
    assert (moved["from_version"], moved["to_version"]) == (champion, trained["version"])
    back = keel_json(home, "model", "rollback", "--dry-run")
    assert back["to_version"] == champion and back["from_version"] == trained["version"]
    keel(home, "model", "rollback", "--by", "risk-officer", "--reason", "rehearsal")
    assert keel_json(home, "model", "list")["champion"] == champion
    moves = keel_json(home, "model", "history")["moves"]
    assert [(m["from_version"], m["to_version"]) for m in moves[-2:]] == [(champion, trained["version"]), (trained["version"], champion)]
    assert all(m["by"] and m["reason"] and m["at"] for m in moves)


def test_lifecycle_commands_work_while_a_run_is_going(lifecycle):
    home, champion, trained = lifecycle
    keel(home, "land", "--date", "2026-01-09")
    env = {**os.environ, "KEEL_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    run = subprocess.Popen([KEEL, "run", "--date", "2026-01-09", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        outputs = [
            keel(home, "model", "list", "--json"),
            keel(home, "model", "history", "--json"),
            keel(home, "model", "approve", trained["version"], "--by", "second-reviewer", "--reason", "concurrent approval"),
            keel(home, "model", "promote", trained["version"], "--dry-run", "--days", "2", "--json", timeout=900),
        ]
    finally:
        stdout, stderr = run.communicate(timeout=900)
    assert run.returncode == 0, stderr[-2000:]
    assert json.loads(stdout)["accepted"] == 100
    for completed in outputs:
        assert "lock" not in (completed.stderr + completed.stdout).lower()
