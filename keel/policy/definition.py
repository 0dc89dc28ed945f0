"""The decision policy as the business wrote it: frozen, versioned, and hashed.

A policy is owned by the credit-risk team, lives in policies/credit_policy.yaml
and changes only by a reviewed edit with a new semantic version. Every decision
records the policy's version and the sha256 of the file it was read from, so
two files that claim the same version are still told apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from keel.policy.conditions import Condition
from keel.policy.errors import PolicyNotInForce


@dataclass(frozen=True)
class Thresholds:
    """Cut-offs on a risk figure where higher means riskier (p_bad, or scorecard points).

    Below `approve_below` the case is approved, at or above `decline_at_or_above`
    it is declined, in between a person reviews it. `suggest_decline_at_or_above`
    splits that review band into the decision suggested to the reviewer.
    """

    approve_below: float
    decline_at_or_above: float
    suggest_decline_at_or_above: float


@dataclass(frozen=True)
class HardRule:
    """A condition that sends a case to a person whatever its score."""

    code: str
    description: str
    condition: Condition


@dataclass(frozen=True)
class ScorecardRule:
    """One line of the fallback scorecard: risk points added when the condition holds."""

    code: str
    description: str
    points: float
    condition: Condition


@dataclass(frozen=True)
class FallbackScorecard:
    """Points-based rules that decide when the model is unavailable or fails to score a case.

    Points measure risk: the higher the total, the riskier the case. The
    thresholds work like the model's, on points instead of probabilities.
    """

    description: str
    base_points: float
    thresholds: Thresholds
    rules: tuple[ScorecardRule, ...]


@dataclass(frozen=True)
class OutOfDistributionGuard:
    """Cases unlike anything the model was trained on go to a person.

    A numeric feature is out of range when it lies beyond the training minimum
    or maximum by more than `numeric_margin` times the training range; a
    category is out of distribution when training never saw it.
    """

    numeric_margin: float
    unseen_categories: bool


@dataclass(frozen=True)
class ReviewAlerts:
    """Operating levels above which the review process needs attention."""

    review_rate_above: float
    override_rate_above: float
    qa_disagreement_rate_above: float
    sla_breaches_above: int


@dataclass(frozen=True)
class ReviewSettings:
    sla_hours: float
    alerts: ReviewAlerts


@dataclass(frozen=True)
class Rollout:
    """Share of applications a challenger model would decide (0: it only scores in shadow)."""

    challenger_share: float


@dataclass(frozen=True)
class Policy:
    name: str
    version: str
    owner: str
    effective_date: dt.date
    description: str
    thresholds: Thresholds
    hard_rules: tuple[HardRule, ...]
    out_of_distribution: OutOfDistributionGuard
    fallback_scorecard: FallbackScorecard
    qa_sample_rate: float
    qa_sample_salt: str
    review: ReviewSettings
    rollout: Rollout
    # Read by keel.models.evaluation.gate as a plain mapping of limit name -> number.
    model_gate: dict[str, float] = field(default_factory=dict)
    path: Path | None = None
    content_sha256: str = ""

    @property
    def sha256(self) -> str:
        return self.content_sha256

    def record(self, include_path: bool = False) -> dict:
        """What the control store keeps about the policy in force.

        By default the keys are exactly the arguments of
        ControlStore.record_policy_version (version, sha256, owner,
        effective_date), which identifies a policy by version and content hash;
        `include_path=True` adds where the file was read from, for logs and
        run metadata.
        """
        record = {
            "version": self.version,
            "sha256": self.content_sha256,
            "owner": self.owner,
            "effective_date": self.effective_date.isoformat(),
        }
        if include_path:
            record["path"] = None if self.path is None else str(self.path)
        return record

    def refuse_unless_in_force_on(self, day: dt.date | str) -> None:
        """Raise PolicyNotInForce when `day`'s applications precede this version's effective_date.

        effective_date is the first application day a version may decide: a
        version merged ahead of its date must not decide the days before it,
        and a past day is decided (and replayed) under the version that was in
        force on it.
        """
        day = dt.date.fromisoformat(str(day)[:10])
        if day < self.effective_date:
            where = self.path or "the policy"
            raise PolicyNotInForce(
                f"{where}: policy {self.name} {self.version} takes effect on {self.effective_date.isoformat()} "
                f"(effective_date) and cannot decide the applications of {day.isoformat()}; decide that day under "
                "the version in force then (check out its commit), or correct effective_date in a reviewed edit that bumps version"
            )

    def rule_descriptions(self) -> dict[str, str]:
        """Reason code -> reviewer-facing sentence for the rules this policy defines."""
        return {rule.code: rule.description for rule in (*self.hard_rules, *self.fallback_scorecard.rules)}
