"""The decision policy: guardrails between a model's score and a decision about a person.

A versioned YAML file owned by the business (policies/credit_policy.yaml)
says when a case is approved or declined automatically and when a person
decides: score thresholds, hard rules, an out-of-distribution guard, a
fallback scorecard for when the model is unavailable, a QA sample, review SLAs
and the gate a new model must pass. This package loads that file and applies
it to a frame of applications; it never imports Dagster.
"""

from keel.policy.conditions import AllOf, AnyOf, Comparison, Condition, parse_condition
from keel.policy.decide import DECIDED_BY_FALLBACK, DECIDED_BY_MODEL, DECISION_COLUMNS, decide
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
from keel.policy.errors import PolicyApplicationError, PolicyError, PolicyFieldError, PolicyNotInForce
from keel.policy.loading import load_policy, policy_from_dict
from keel.policy.qa_sampling import qa_sampled, qa_uniform
from keel.policy.reasons import REASONS, describe_reasons
from keel.policy.training_profile import TrainingProfile

__all__ = [
    "AllOf",
    "AnyOf",
    "Comparison",
    "Condition",
    "DECIDED_BY_FALLBACK",
    "DECIDED_BY_MODEL",
    "DECISION_COLUMNS",
    "FallbackScorecard",
    "HardRule",
    "OutOfDistributionGuard",
    "Policy",
    "PolicyApplicationError",
    "PolicyError",
    "PolicyFieldError",
    "PolicyNotInForce",
    "REASONS",
    "ReviewAlerts",
    "ReviewSettings",
    "Rollout",
    "ScorecardRule",
    "Thresholds",
    "TrainingProfile",
    "decide",
    "describe_reasons",
    "load_policy",
    "parse_condition",
    "policy_from_dict",
    "qa_sampled",
    "qa_uniform",
]
