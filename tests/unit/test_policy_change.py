"""The settings a policy change touches, by dotted name (keel/policy_change.py)."""

import dataclasses

from keel.decisioning import current_policy
from keel.policy.definition import Rollout
from keel.policy_change import changed_fields, policy_flips_text

IN_FORCE = current_policy()


def test_an_identical_policy_changes_nothing():
    assert changed_fields(IN_FORCE, dataclasses.replace(IN_FORCE)) == {}


def test_nested_settings_are_named_with_their_section_and_the_file_location_is_ignored():
    candidate = dataclasses.replace(
        IN_FORCE,
        thresholds=dataclasses.replace(IN_FORCE.thresholds, approve_below=0.15),
        rollout=Rollout(challenger_share=0.1),
        path=None,
        content_sha256="changed",
    )
    assert changed_fields(IN_FORCE, candidate) == {
        "rollout.challenger_share": {"from": 0.0, "to": 0.1},
        "thresholds.approve_below": {"from": 0.2, "to": 0.15},
    }


def test_a_removed_hard_rule_shows_the_list_before_and_after():
    candidate = dataclasses.replace(IN_FORCE, hard_rules=IN_FORCE.hard_rules[1:])
    change = changed_fields(IN_FORCE, candidate)["hard_rules"]
    assert len(change["from"]) == len(change["to"]) + 1


def _result(recorded_under: list[dict], effective_date: str = "2026-01-01") -> dict:
    return {
        "in_force": {"version": "1.0.0", "sha256": "a" * 64},
        "candidate": {"version": "1.1.0", "sha256": "b" * 64, "path": "c.yaml", "effective_date": effective_date},
        "recorded_under": recorded_under, "version_not_bumped": False, "changed": {}, "days": ["2026-01-01"], "applications": 100,
        "flipped": 0, "flips": {}, "routes_now": {"approve": 100}, "routes_after": {"approve": 100},
    }


def test_days_decided_under_another_policy_are_pointed_out():
    assert "decided under policy" not in policy_flips_text(_result([{"version": "1.0.0", "sha256": "a" * 64}]))
    text = policy_flips_text(_result([{"version": "0.9.0", "sha256": "9" * 64}, {"version": "1.0.0", "sha256": "a" * 64}]))
    assert "some of these days were decided under policy 0.9.0 (sha256 999999999999), not the one in force" in text


def test_a_candidate_taking_effect_after_the_last_decided_day_says_what_merging_early_would_do():
    on_time = policy_flips_text(_result([], effective_date="2026-01-01"))
    assert "note: it takes effect" not in on_time and on_time.endswith("the policy decides application days from 2026-01-01")
    later = policy_flips_text(_result([], effective_date="2026-02-01"))
    assert (
        "note: it takes effect on 2026-02-01, after the last decided day: merged before then, the days before it would be refused, "
        "not decided (merge it on 2026-02-01, or keep 1.0.0 in force until then)"
    ) in later
