"""Loading the credit policy: the shipped file is valid, and a malformed one is refused by key."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
import yaml

from keel.demo_calendar import FIRST_LIVE_DAY
from keel.policy import PolicyError, PolicyNotInForce, load_policy
from keel.policy.conditions import AnyOf, Comparison

REPO_ROOT = Path(__file__).resolve().parents[2]
POLICY_PATH = REPO_ROOT / "policies" / "credit_policy.yaml"


def _document() -> dict:
    return yaml.safe_load(POLICY_PATH.read_text())


def _write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_shipped_policy_loads_with_version_hash_and_business_limits():
    policy = load_policy(POLICY_PATH)
    assert policy.version == "1.0.1"
    assert policy.content_sha256 == hashlib.sha256(POLICY_PATH.read_bytes()).hexdigest()
    assert policy.effective_date == FIRST_LIVE_DAY  # in force from the demo's first decided day
    assert policy.thresholds.approve_below == pytest.approx(0.20)
    assert policy.thresholds.decline_at_or_above == pytest.approx(0.60)
    codes = {rule.code for rule in policy.hard_rules}
    assert {"INCOME_MISSING", "AMOUNT_FAR_ABOVE_PRICE"} <= codes and len(codes) >= 3
    assert policy.hard_rules[0].condition == Comparison("income", "is_null")
    assert isinstance(next(r for r in policy.hard_rules if r.code == "PRICE_MISSING").condition, AnyOf)
    assert 0 < policy.qa_sample_rate < 1
    assert policy.rollout.challenger_share == 0.0
    assert 0 < policy.model_gate["min_segment_approval_ratio"] <= 1
    assert isinstance(policy.model_gate, dict) and {"min_roc_auc", "max_brier", "max_calibration_error", "max_auc_drop_vs_champion"} <= set(policy.model_gate)


def test_record_carries_what_the_control_store_keeps():
    policy = load_policy(POLICY_PATH)
    assert policy.record() == {
        "version": "1.0.1",
        "sha256": policy.content_sha256,
        "owner": policy.owner,
        "effective_date": "2026-01-01",
    }
    assert policy.record(include_path=True)["path"] == str(POLICY_PATH)


def test_a_changed_byte_changes_the_hash_but_not_the_version(tmp_path):
    copy = tmp_path / "policy.yaml"
    copy.write_bytes(POLICY_PATH.read_bytes() + b"\n# reworded comment\n")
    original, edited = load_policy(POLICY_PATH), load_policy(copy)
    assert edited.version == original.version
    assert edited.content_sha256 != original.content_sha256


@pytest.mark.parametrize(
    ("mutate", "key", "expected"),
    [
        (lambda d: d.update(version="1.0"), "version", "semantic version"),
        (lambda d: d.update(version="v1.0.0"), "version", "semantic version"),
        (lambda d: d.pop("owner"), "<top level>", "missing keys ['owner']"),
        (lambda d: d.update(colour="blue"), "<top level>", "unknown keys ['colour']"),
        (lambda d: d["thresholds"].update(approve_below=0.7), "thresholds", "approve_below <= suggest_decline_at_or_above"),
        (lambda d: d["thresholds"].update(decline_at_or_above=1.5), "thresholds.decline_at_or_above", "a number in [0.0, 1.0]"),
        (lambda d: d.update(qa_sample_rate=5), "qa_sample_rate", "a number in [0.0, 1.0]"),
        (lambda d: d.update(effective_date="soon"), "effective_date", "a date"),
        (lambda d: d["hard_rules"][1]["condition"].update(op="≈"), "hard_rules[1].condition.op", "one of"),
        (lambda d: d["hard_rules"][1]["condition"].update(value="big"), "hard_rules[1].condition.value", "a finite number"),
        (lambda d: d["hard_rules"][0].update(code="income missing"), "hard_rules[0].code", "upper-case reason code"),
        (lambda d: d["hard_rules"][1].update(code="INCOME_MISSING"), "hard_rules[1].code", "used once"),
        (lambda d: d["hard_rules"][0].update(code="QA_SAMPLE"), "hard_rules[0].code", "does not already use"),
        (lambda d: d["hard_rules"][0].pop("description"), "hard_rules[0]", "missing keys ['description']"),
        (lambda d: d["fallback_scorecard"]["rules"][0].update(points="lots"), "fallback_scorecard.rules[0].points", "a number"),
        (lambda d: d["review"].update(sla_hours=0), "review.sla_hours", "above 0"),
        (lambda d: d["model_gate"].pop("min_roc_auc"), "model_gate", "missing keys ['min_roc_auc']"),
        (lambda d: d["rollout"].update(challenger_share=-0.1), "rollout.challenger_share", "a number in [0.0, 1.0]"),
        (lambda d: d["out_of_distribution"].update(unseen_categories="yes"), "out_of_distribution.unseen_categories", "true or false"),
    ],
)
def test_malformed_policy_is_refused_naming_file_and_key(tmp_path, mutate, key, expected):
    document = _document()
    mutate(document)
    path = _write(tmp_path, document)
    with pytest.raises(PolicyError) as failure:
        load_policy(path)
    message = str(failure.value)
    assert message.startswith(f"{path}: {key}: expected")
    assert expected in message


def test_missing_file_and_broken_yaml_name_the_file(tmp_path):
    with pytest.raises(PolicyError, match="policy file not found"):
        load_policy(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("thresholds: [unclosed\n")
    with pytest.raises(PolicyError, match=f"{broken}: not valid YAML"):
        load_policy(broken)


@pytest.mark.parametrize("day", ["2026-02-01", dt.date(2026, 2, 2), "2026-02-01 00:00:00", "2027-01-01"])
def test_a_policy_decides_from_its_effective_date_on(tmp_path, day):
    document = _document()
    document["effective_date"] = "2026-02-01"
    _write(tmp_path, document)
    load_policy(tmp_path / "policy.yaml").refuse_unless_in_force_on(day)


@pytest.mark.parametrize("day", ["2026-01-31", dt.date(2026, 1, 31), "2026-01-31 00:00:00", "2025-12-31"])
def test_a_day_before_the_effective_date_is_refused_naming_file_version_date_and_day(tmp_path, day):
    document = _document()
    document["version"], document["effective_date"] = "1.2.0", "2026-02-01"
    path = _write(tmp_path, document)
    with pytest.raises(PolicyNotInForce) as refused:
        load_policy(path).refuse_unless_in_force_on(day)
    message = str(refused.value)
    assert str(path) in message and "credit-decisioning 1.2.0" in message and "takes effect on 2026-02-01" in message
    assert f"applications of {str(day)[:10]}" in message
