"""What `keel model train` prints (keel/cli/model.py)."""

from keel.cli.model import trained_candidate_lines


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
    assert lines == ["candidate m-new  gate passed  run run-1", "  roc_auc 0.83  brier 0.15"]


def test_a_candidate_that_is_the_champion_says_so():
    lines = trained_candidate_lines(_result("m-old", "m-old"))
    assert lines[0] == "candidate m-old  gate passed  run run-1"
    assert "champion already" in lines[-1] and "nothing to approve or promote" in lines[-1]


def test_without_a_champion_every_candidate_is_new():
    assert len(trained_candidate_lines(_result("m-first", None))) == 2
