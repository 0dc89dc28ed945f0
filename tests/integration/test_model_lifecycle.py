"""The model lifecycle from the CLI: train, dry-run, approve, promote, roll back — also while a run is going."""

import json
import os
import subprocess
import sys

import pytest

from tests.integration.helpers import KEEL, copy_home, keel, keel_json

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def lifecycle(demo_copy):
    """A candidate trained after the first live outcomes landed (so it differs from the champion)."""
    home, summary = demo_copy
    keel(home, "land", "--date", "2026-01-08")  # outcomes of 2026-01-01 land a week later
    keel(home, "run", "--date", "2026-01-08")
    trained = keel_json(home, "model", "train")
    return home, summary["first_model_version"], trained


def test_training_before_new_outcomes_gives_the_champion_itself(demo_template, tmp_path):
    """The same labelled rows, code and parameters give the same model, and `keel model train` says it is the champion."""
    # A copy of its own: the module's shared copy gains outcomes once `lifecycle` has run, whatever the order.
    template, summary = demo_template
    home = tmp_path / "home"
    copy_home(template, home)
    retrained = keel(home, "model", "train")
    champion = summary["first_model_version"]
    assert retrained.stdout.startswith(f"candidate {champion} ")
    assert "champion already" in retrained.stdout
    assert keel_json(home, "model", "list")["champion"] == champion
    import dagster as dg

    # The UI says so too, where the drift sensor's retraining shows its candidate.
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    metadata = instance.get_latest_materialization_event(dg.AssetKey("candidate_model")).asset_materialization.metadata
    assert metadata["same_as_champion"].value is True and metadata["model_version"].value == champion


def test_train_reports_version_metrics_and_gate(lifecycle):
    _home, champion, trained = lifecycle
    assert trained["version"].startswith("m-") and trained["version"] != champion
    assert 0.5 < trained["metrics"]["roc_auc"] <= 1 and isinstance(trained["gate_passed"], bool)
    assert trained["gate_passed"] == (trained["gate_failures"] == []), "a failed gate says why"
    listed = {v["version"]: v for v in keel_json(_home, "model", "list")["versions"]}
    assert listed[trained["version"]]["gate_failures"] == trained["gate_failures"]
    evaluation = trained["evaluation"]
    assert evaluation["candidate_version"] == trained["version"] and evaluation["champion_version"] == champion
    assert evaluation["candidate_roc_auc"] == pytest.approx(trained["metrics"]["roc_auc"]) and 0.5 < evaluation["champion_roc_auc"] <= 1


def test_dry_run_shows_flips_and_moves_nothing(lifecycle):
    home, champion, trained = lifecycle
    same = keel_json(home, "model", "promote", champion, "--dry-run")
    assert same["flipped"] == 0, "re-deciding with the champion itself reproduces every recorded route"
    result = keel_json(home, "model", "promote", trained["version"], "--dry-run", "--days", "4")
    assert result["dry_run"] and result["from_version"] == champion and result["to_version"] == trained["version"]
    assert result["applications"] == 400 and len(result["days"]) == 4
    assert sum(result["flips"].values()) == result["flipped"] == sum(result["flips_by_day"].values())
    assert set(result["flips_by_day"]) <= set(result["days"]), "flips by day are keyed by the days as `days` names them"
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


REGISTRY_TICK = """
import json, os
import dagster as dg
from keel.home import KeelHome
from keel.orchestrate import execute, instance_for
from sensors.model_registry import model_registry_sensor
home = KeelHome.from_env()
instance = instance_for(home)
result = model_registry_sensor(dg.build_sensor_context(instance=instance, cursor=os.environ["TICK_CURSOR"]))
recorded = execute("record_model_registry", home) if os.environ.get("RECORD") else None
print(json.dumps({
    "requests": [[r.job_name, r.partition_key] for r in result.run_requests],
    "cursor": result.cursor,
    "registry": recorded.materializations.get("model_registry") if recorded else None,
}))
"""


def _registry_tick(home, cursor: str, record: bool = False) -> dict:
    """One tick of the registry sensor (in a process of its own, as the daemon runs it); with `record`, the registry job it asks for."""
    env = {**os.environ, "KEEL_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "KEEL_RESCORE_DAYS_ON_PROMOTION": "2", "TICK_CURSOR": cursor}
    if record:
        env["RECORD"] = "1"
    done = subprocess.run([sys.executable, "-c", REGISTRY_TICK], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _rescoring(tick: dict) -> list[str]:
    return [partition for job, partition in tick["requests"] if job == "daily_decisioning"]


def test_alias_moves_show_in_dagster_and_rescore_the_days_another_model_scored(lifecycle):
    home, champion, trained = lifecycle
    first = _registry_tick(home, "0", record=True)
    assert first["requests"][0] == ["record_model_registry", None]
    # Every alias move is new to a first tick, but the champion now scored every recent day: nothing to rescore.
    assert _rescoring(first) == []
    registry = first["registry"]
    assert registry["champion"] == keel_json(home, "model", "list")["champion"] == champion
    assert registry["alias_moves"] == len(keel_json(home, "model", "history")["moves"]) and "risk-officer" in registry["recent_moves"]

    keel(home, "model", "promote", trained["version"], "--by", "risk-officer", "--reason", "rescore the last days")
    promoted = _registry_tick(home, first["cursor"])
    rescoring = _rescoring(promoted)
    assert len(rescoring) == 2 and rescoring == sorted(rescoring), "the last two days were scored by the champion before"

    keel(home, "model", "rollback", "--by", "risk-officer", "--reason", "the days were not rescored yet")
    assert _rescoring(_registry_tick(home, promoted["cursor"])) == [], "back to the model that scored them"


def test_a_challenger_is_scored_in_shadow_and_compared(lifecycle):
    import duckdb

    home, champion, trained = lifecycle
    keel(home, "model", "set-challenger", trained["version"], "--by", "risk-officer", "--reason", "shadow before promotion")
    keel(home, "land", "--date", "2026-01-10")
    summary = keel_json(home, "run", "--date", "2026-01-10")
    assert summary["accepted"] == 100
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        scores = con.execute(
            "select count(*), count(challenger_p_bad), min(challenger_version), min(model_version) from decisioning.scores "
            "where cast(application_date as date) = '2026-01-10'"
        ).fetchone()
        deciders = con.execute(
            "select distinct decided_by_model from decisioning.decisions where cast(application_date as date) = '2026-01-10'"
        ).fetchall()
    assert scores == (100, 100, trained["version"], keel_json(home, "model", "list")["champion"])
    # The policy's rollout share is 0: the challenger only scores in shadow.
    assert deciders == [(keel_json(home, "model", "list")["champion"],)]
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    metadata = instance.get_latest_materialization_event(dg.AssetKey("scores")).asset_materialization.metadata
    assert metadata["challenger_version"].value == trained["version"]
    assert 0.0 <= metadata["challenger_agreement"].value <= 1.0
    assert metadata["decision_flips"].value == sum(metadata["challenger_flips"].value.values())
