"""Reading a policy file and refusing it, precisely, when it is wrong.

A typo in a policy must stop decisions, not quietly change them: unknown keys,
missing keys and impossible values (a decline threshold below the approval
threshold, a QA rate of 5) fail when the file is read, with the file, the key
path, what was expected and what was found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from keel.policy.conditions import parse_condition
from keel.policy.definition import (
    FallbackScorecard,
    HardRule,
    OutOfDistributionGuard,
    Policy,
    ReviewAlerts,
    ReviewSettings,
    Rollout,
    ScorecardRule,
    Thresholds,
)
from keel.policy.errors import PolicyError, PolicyFieldError
from keel.policy.reasons import is_reserved

# Semantic Versioning 2.0.0, as published at semver.org.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
REASON_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
TOP_LEVEL_KEYS = {
    "name", "version", "owner", "effective_date", "description", "thresholds", "hard_rules",
    "out_of_distribution", "fallback_scorecard", "qa_sample_rate", "qa_sample_salt", "review",
    "rollout", "model_gate",
}  # fmt: skip
# The limits keel.models.evaluation.gate must always be given; others it knows may be added.
REQUIRED_GATE_KEYS = {"min_roc_auc", "max_brier", "max_calibration_error", "min_segment_approval_ratio", "max_auc_drop_vs_champion"}


def load_policy(path: Path | str) -> Policy:
    """Read, validate and hash a policy file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PolicyError(f"{path}: policy file not found") from None
    try:
        document = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from None
    try:
        policy = policy_from_dict(document)
    except PolicyFieldError as exc:
        raise PolicyError(f"{path}: {exc}") from None
    return replace(policy, path=path, content_sha256=hashlib.sha256(raw).hexdigest())


def _section(value: Any, key: str, required: set[str], optional: set[str] = frozenset()) -> dict:
    if not isinstance(value, dict):
        raise PolicyFieldError(key, "a mapping", value)
    unknown = sorted(set(value) - required - optional)
    if unknown:
        raise PolicyFieldError(key, f"only the keys {sorted(required | optional)}", f"unknown keys {unknown}")
    missing = sorted(required - set(value))
    if missing:
        raise PolicyFieldError(key, f"the keys {sorted(required)}", f"missing keys {missing}")
    return value


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PolicyFieldError(key, "a non-empty text", value)
    return value.strip()


def _number(value: Any, key: str, low: float = float("-inf"), high: float = float("inf")) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low <= value <= high):
        bounds = "" if (low, high) == (float("-inf"), float("inf")) else f" in [{low}, {high}]"
        raise PolicyFieldError(key, f"a number{bounds}", value)
    return float(value)


def _whole(value: Any, key: str, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise PolicyFieldError(key, f"a whole number of at least {low}", value)
    return value


def _date(value: Any, key: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise PolicyFieldError(key, "a date (YYYY-MM-DD) without a time", value)
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise PolicyFieldError(key, "a date (YYYY-MM-DD)", value)


def _thresholds(value: Any, key: str, low: float, high: float) -> Thresholds:
    section = _section(value, key, {"approve_below", "decline_at_or_above", "suggest_decline_at_or_above"})
    thresholds = Thresholds(
        approve_below=_number(section["approve_below"], f"{key}.approve_below", low, high),
        decline_at_or_above=_number(section["decline_at_or_above"], f"{key}.decline_at_or_above", low, high),
        suggest_decline_at_or_above=_number(section["suggest_decline_at_or_above"], f"{key}.suggest_decline_at_or_above", low, high),
    )
    if not thresholds.approve_below <= thresholds.suggest_decline_at_or_above <= thresholds.decline_at_or_above:
        raise PolicyFieldError(
            key,
            "approve_below <= suggest_decline_at_or_above <= decline_at_or_above",
            f"{thresholds.approve_below} / {thresholds.suggest_decline_at_or_above} / {thresholds.decline_at_or_above}",
        )
    return thresholds


def _code(value: Any, key: str, seen: set[str]) -> str:
    if not isinstance(value, str) or not REASON_CODE.match(value):
        raise PolicyFieldError(key, "an upper-case reason code such as INCOME_MISSING", value)
    if is_reserved(value):
        raise PolicyFieldError(key, "a code the engine does not already use", value)
    if value in seen:
        raise PolicyFieldError(key, "a reason code used once in the policy", f"{value} (used twice)")
    seen.add(value)
    return value


def _hard_rules(value: Any, key: str, seen: set[str]) -> tuple[HardRule, ...]:
    if not isinstance(value, list):
        raise PolicyFieldError(key, "a list of rules", value)
    rules = []
    for i, raw in enumerate(value):
        where = f"{key}[{i}]"
        rule = _section(raw, where, {"code", "description", "condition"})
        rules.append(
            HardRule(
                code=_code(rule["code"], f"{where}.code", seen),
                description=_text(rule["description"], f"{where}.description"),
                condition=parse_condition(rule["condition"], f"{where}.condition"),
            )
        )
    return tuple(rules)


def _scorecard(value: Any, key: str, seen: set[str]) -> FallbackScorecard:
    section = _section(value, key, {"description", "base_points", "thresholds", "rules"})
    raw_rules = section["rules"]
    if not isinstance(raw_rules, list) or not raw_rules:
        raise PolicyFieldError(f"{key}.rules", "a non-empty list of scorecard rules", raw_rules)
    rules = []
    for i, raw in enumerate(raw_rules):
        where = f"{key}.rules[{i}]"
        rule = _section(raw, where, {"code", "description", "points", "condition"})
        rules.append(
            ScorecardRule(
                code=_code(rule["code"], f"{where}.code", seen),
                description=_text(rule["description"], f"{where}.description"),
                points=_number(rule["points"], f"{where}.points"),
                condition=parse_condition(rule["condition"], f"{where}.condition"),
            )
        )
    return FallbackScorecard(
        description=_text(section["description"], f"{key}.description"),
        base_points=_number(section["base_points"], f"{key}.base_points"),
        thresholds=_thresholds(section["thresholds"], f"{key}.thresholds", float("-inf"), float("inf")),
        rules=tuple(rules),
    )


def _review(value: Any, key: str) -> ReviewSettings:
    section = _section(value, key, {"sla_hours", "alerts"})
    alerts = _section(
        section["alerts"],
        f"{key}.alerts",
        {"review_rate_above", "override_rate_above", "qa_disagreement_rate_above", "sla_breaches_above"},
    )
    sla_hours = _number(section["sla_hours"], f"{key}.sla_hours", 0.0)
    if sla_hours == 0:
        raise PolicyFieldError(f"{key}.sla_hours", "a number of hours above 0", section["sla_hours"])
    return ReviewSettings(
        sla_hours=sla_hours,
        alerts=ReviewAlerts(
            review_rate_above=_number(alerts["review_rate_above"], f"{key}.alerts.review_rate_above", 0.0, 1.0),
            override_rate_above=_number(alerts["override_rate_above"], f"{key}.alerts.override_rate_above", 0.0, 1.0),
            qa_disagreement_rate_above=_number(
                alerts["qa_disagreement_rate_above"], f"{key}.alerts.qa_disagreement_rate_above", 0.0, 1.0
            ),
            sla_breaches_above=_whole(alerts["sla_breaches_above"], f"{key}.alerts.sla_breaches_above"),
        ),
    )


def _model_gate(value: Any, key: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise PolicyFieldError(key, "a mapping of limit name to number", value)
    missing = sorted(REQUIRED_GATE_KEYS - set(value))
    if missing:
        raise PolicyFieldError(key, f"at least the keys {sorted(REQUIRED_GATE_KEYS)}", f"missing keys {missing}")
    gate = {}
    for name, limit in value.items():
        if not isinstance(name, str):
            raise PolicyFieldError(key, "limit names as text", name)
        gate[name] = _number(limit, f"{key}.{name}", 0.0)
    for name in ("min_roc_auc", "max_calibration_error", "min_segment_approval_ratio", "max_auc_drop_vs_champion"):
        _number(gate[name], f"{key}.{name}", 0.0, 1.0)
    return gate


def policy_from_dict(document: Any) -> Policy:
    """Validate a policy given as a mapping (the parsed YAML); errors name the key path."""
    top = _section(document, "", TOP_LEVEL_KEYS)
    version = top["version"]
    if not isinstance(version, str) or not SEMVER.match(version):
        raise PolicyFieldError("version", "a semantic version such as 1.2.0 (quote it in YAML)", version)
    ood = _section(top["out_of_distribution"], "out_of_distribution", {"numeric_margin", "unseen_categories"})
    if not isinstance(ood["unseen_categories"], bool):
        raise PolicyFieldError("out_of_distribution.unseen_categories", "true or false", ood["unseen_categories"])
    rollout = _section(top["rollout"], "rollout", {"challenger_share"})
    codes: set[str] = set()
    return Policy(
        name=_text(top["name"], "name"),
        version=version,
        owner=_text(top["owner"], "owner"),
        effective_date=_date(top["effective_date"], "effective_date"),
        description=_text(top["description"], "description"),
        thresholds=_thresholds(top["thresholds"], "thresholds", 0.0, 1.0),
        hard_rules=_hard_rules(top["hard_rules"], "hard_rules", codes),
        out_of_distribution=OutOfDistributionGuard(
            numeric_margin=_number(ood["numeric_margin"], "out_of_distribution.numeric_margin", 0.0),
            unseen_categories=ood["unseen_categories"],
        ),
        fallback_scorecard=_scorecard(top["fallback_scorecard"], "fallback_scorecard", codes),
        qa_sample_rate=_number(top["qa_sample_rate"], "qa_sample_rate", 0.0, 1.0),
        qa_sample_salt=_text(top["qa_sample_salt"], "qa_sample_salt"),
        review=_review(top["review"], "review"),
        rollout=Rollout(challenger_share=_number(rollout["challenger_share"], "rollout.challenger_share", 0.0, 1.0)),
        model_gate=_model_gate(top["model_gate"], "model_gate"),
    )
