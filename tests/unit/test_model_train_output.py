"""What `keel model train`, `list` and `history` print (keel/cli/model.py)."""

from typer.testing import CliRunner

from keel.cli.model import model_app, trained_candidate_lines, version_line
from keel.model_lifecycle import gate_failures


def _result(version: str, champion: str | None) -> dict:
    return {
        "version": version,
        "gate_passed": True,
        "run_id": "run-1",
        "metrics": {"roc_auc": 0.83, "brier": 0.15},
        "champion": champion,
        "same_as_champion": version == champion,
    }


def test_a_new_candidate_is_named_with_its_gate_and_metrics():
    lines = trained_candidate_lines(_result("m-new", "m-old"))
    assert lines == ["candidate m-new  gate passed  run run-1", "  roc_auc 0.8300  brier 0.1500"]


def test_a_candidate_that_is_the_champion_says_so():
    lines = trained_candidate_lines(_result("m-old", "m-old"))
    assert lines[0] == "candidate m-old  gate passed  run run-1"
    assert "champion already" in lines[-1] and "nothing to approve or promote" in lines[-1]


def test_without_a_champion_every_candidate_is_new():
    assert len(trained_candidate_lines(_result("m-first", None))) == 2


def test_a_listed_version_shows_its_metrics_rounded_and_its_aliases():
    row = {"version": "m-1", "roc_auc": 0.8227306547619048, "brier": None, "gate_passed": False, "approvals": [], "aliases": []}
    assert version_line(row) == "m-1  roc_auc 0.8227  brier n/a  gate FAILED  approvals 0"
    champion = {**row, "brier": 0.13641, "gate_passed": True, "approvals": [{"by": "a"}], "aliases": ["champion", "challenger"]}
    assert version_line(champion) == "m-1  roc_auc 0.8227  brier 0.1364  gate ok  approvals 1  champion challenger"


def test_a_candidate_that_failed_the_gate_says_why():
    failure = "min_segment_approval_ratio 0.0477 (worst segment job=partime) is below min_segment_approval_ratio 0.3500"
    lines = trained_candidate_lines({**_result("m-new", "m-old"), "gate_passed": False, "gate_failures": [failure]})
    assert lines == ["candidate m-new  gate FAILED  run run-1", "  roc_auc 0.8300  brier 0.1500", f"  gate: {failure}"]


def test_gate_failures_come_from_the_registered_gate_result():
    assert gate_failures({"gate": {"passed": True, "failures": []}}) == []
    assert gate_failures({"gate": {"passed": False, "failures": ["roc_auc 0.7000 is below min_roc_auc 0.7500"]}}) == [
        "roc_auc 0.7000 is below min_roc_auc 0.7500"
    ]
    assert gate_failures({"gate": None}) == ["no gate result recorded"]


def test_an_empty_registry_says_what_to_do_first(tmp_path, monkeypatch):
    monkeypatch.setenv("KEEL_HOME", str(tmp_path / "empty"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "empty" / "dagster"))
    listed = CliRunner().invoke(model_app, ["list"])
    assert listed.exit_code == 0 and "no model versions yet" in listed.output
    moves = CliRunner().invoke(model_app, ["history"])
    assert moves.exit_code == 0 and "no alias has moved yet" in moves.output


def test_an_alias_move_without_by_records_the_login_name(monkeypatch):
    from keel.cli.model import mover

    monkeypatch.setenv("LOGNAME", "mchen")
    assert mover() == "mchen"
