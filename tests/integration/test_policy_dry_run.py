"""`keel policy dry-run`: a changed policy file decided against the demo's recorded days, nothing written."""

import pytest

from keel.home import REPO_ROOT
from tests.integration.helpers import keel, keel_json

pytestmark = pytest.mark.integration

IN_FORCE = REPO_ROOT / "policies" / "credit_policy.yaml"


def _candidate(tmp_path, *, decline_at: str | None = None, version: str | None = None):
    text = IN_FORCE.read_text()
    if decline_at:
        assert "  decline_at_or_above: 0.60\n" in text
        text = text.replace("  decline_at_or_above: 0.60\n", f"  decline_at_or_above: {decline_at}\n", 1)
    if version:
        text = "\n".join(f"version: {version}" if line.startswith("version:") else line for line in text.splitlines()) + "\n"
    path = tmp_path / "candidate_policy.yaml"
    path.write_text(text)
    return path


def test_the_policy_in_force_flips_nothing(demo_template):
    home, summary = demo_template
    result = keel_json(home, "policy", "dry-run", str(IN_FORCE))
    assert result["dry_run"] and result["flipped"] == 0 and result["changed"] == {}
    assert result["applications"] == 100 * len(result["days"]) and result["routes_now"] == result["routes_after"]
    assert result["recorded_under"] == [{"version": result["in_force"]["version"], "sha256": result["in_force"]["sha256"]}]


def test_a_lower_decline_threshold_moves_reviews_to_declines_and_records_nothing(demo_template, tmp_path):
    home, _ = demo_template
    before = keel_json(home, "policy", "history")["versions"]
    result = keel_json(home, "policy", "dry-run", str(_candidate(tmp_path, decline_at="0.45", version="9.9.9")))
    assert result["changed"]["thresholds.decline_at_or_above"] == {"from": 0.6, "to": 0.45}
    assert result["changed"]["version"]["to"] == "9.9.9" and not result["version_not_bumped"]
    assert result["flipped"] > 0 and set(result["flips"]) == {"review->decline"}
    assert result["routes_after"]["decline"] - result["routes_now"]["decline"] == result["flipped"]
    assert keel_json(home, "policy", "history")["versions"] == before, "a dry run records no policy in force"


def test_a_changed_file_that_keeps_its_version_is_flagged(demo_template, tmp_path):
    home, _ = demo_template
    text = keel(home, "policy", "dry-run", str(_candidate(tmp_path, decline_at="0.45")), "--days", "2").stdout
    assert "bump `version`" in text and "thresholds.decline_at_or_above: 0.6 -> 0.45" in text


def test_a_malformed_candidate_is_refused_naming_the_file(demo_template, tmp_path):
    home, _ = demo_template
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: [unclosed\n")
    result = keel(home, "policy", "dry-run", str(broken), check=False)
    assert result.returncode == 1 and str(broken) in result.stderr and "Traceback" not in result.stderr
