"""How the review process is doing: how much goes to people, how often they disagree, how late they are.

These figures tell operations whether human review is a safety net or a
bottleneck: a rising review rate means the model or the rules send too much;
a rising override rate means the suggestions (and so the thresholds) no
longer fit; reviewers reversing QA-sampled automatic decisions means the
automatic path itself may be wrong; SLA breaches mean applicants are waiting.
The policy's `review` section sets the SLA and the alert levels.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from keel.columns import APPLICATION_ID, ROUTE_REVIEW
from keel.frames import merge_one_to_one
from keel.review.final_decisions import DECIDED_BY_REVIEWER, PENDING

if TYPE_CHECKING:
    from keel.policy import Policy

HOUR = pd.Timedelta(hours=1)


def due_by(queued_at, policy: "Policy"):
    """When a case queued at `queued_at` must be decided under the policy's SLA (datetime or Series)."""
    return queued_at + dt.timedelta(hours=policy.review.sla_hours)


def _utc(values: pd.Series, name: str) -> pd.Series:
    stamps = pd.to_datetime(values, utc=True, format="ISO8601") if not pd.api.types.is_datetime64_any_dtype(values) else values
    if getattr(stamps.dt, "tz", None) is None:
        raise ValueError(f"{name} has no timezone; keel stores review times in UTC with an offset")
    return stamps.dt.tz_convert("UTC")


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def review_measures(decisions: pd.DataFrame, final: pd.DataFrame, now: dt.datetime, policy: "Policy | None" = None) -> dict:
    """Operating measures of review over `decisions` (JSON-safe; rates are None when undefined).

    decisions: application_id, route, qa_sampled and, for SLA figures,
    `due_by` or `queued_at` (with a policy to add its SLA); final: the output
    of final_decisions for the same applications. With a policy, `alerts`
    lists every measure above its alert level.
    """
    if now.tzinfo is None:
        raise ValueError("now must carry a timezone (e.g. datetime.now(timezone.utc))")
    now_ts = pd.Timestamp(now).tz_convert("UTC")
    merged = merge_one_to_one(decisions, final, on=APPLICATION_ID, how="left")
    if merged["final_decision"].isna().any():
        raise ValueError(f"final decisions miss {int(merged['final_decision'].isna().sum())} of the applications")

    review = (merged["route"] == ROUTE_REVIEW).to_numpy()
    pending = review & (merged["final_decision"] == PENDING).to_numpy()
    reviewed = review & (merged["decided_by"] == DECIDED_BY_REVIEWER).to_numpy(dtype=bool, na_value=False)
    overridden = merged["overridden"].to_numpy(dtype=bool)
    qa = merged["qa_sampled"].to_numpy(dtype=bool) if "qa_sampled" in merged.columns else np.zeros(len(merged), dtype=bool)

    queued = _utc(merged["queued_at"], "queued_at") if "queued_at" in merged.columns else None
    if "due_by" in merged.columns:
        due = _utc(merged["due_by"], "due_by")
    elif queued is not None and policy is not None:
        due = due_by(queued, policy)
    elif review.any():
        raise ValueError("SLA measures need a due_by column, or a queued_at column and the policy")
    else:
        due = pd.Series(pd.NaT, index=merged.index, dtype="datetime64[ns, UTC]")
    reviewed_at = _utc(merged["reviewed_at"].where(reviewed), "reviewed_at")
    late_pending = pending & (now_ts > due).to_numpy(dtype=bool)
    late_reviews = reviewed & (reviewed_at > due).to_numpy(dtype=bool)

    oldest = None
    if queued is not None and pending.any():
        oldest = float((now_ts - queued[pending]).max() / HOUR)

    measures = {
        "applications": int(len(merged)),
        "review_cases": int(review.sum()),
        "review_rate": _rate(int(review.sum()), len(merged)),
        "reviewed_count": int(reviewed.sum()),
        "pending_count": int(pending.sum()),
        "override_count": int((reviewed & overridden).sum()),
        "override_rate": _rate(int((reviewed & overridden).sum()), int(reviewed.sum())),
        "qa_sampled_count": int(qa.sum()),
        "qa_reviewed_count": int((qa & reviewed).sum()),
        "qa_disagreement_rate": _rate(int((qa & reviewed & overridden).sum()), int((qa & reviewed).sum())),
        "oldest_pending_hours": oldest,
        "sla_breaches": int(late_pending.sum() + late_reviews.sum()),
        "sla_breaches_pending": int(late_pending.sum()),
        "sla_breaches_reviewed_late": int(late_reviews.sum()),
    }
    if policy is not None:
        measures["sla_hours"] = policy.review.sla_hours
        measures["alerts"] = review_alerts(measures, policy)
    return measures


def review_alerts(measures: dict, policy: "Policy") -> list[dict]:
    """Each measure above the policy's alert level, with a sentence for the on-call person."""
    limits = policy.review.alerts
    checks = (
        ("review_rate", limits.review_rate_above, "of applications went to review"),
        ("override_rate", limits.override_rate_above, "of reviewed cases overrode the suggested decision"),
        ("qa_disagreement_rate", limits.qa_disagreement_rate_above, "of QA-sampled automatic decisions were reversed by reviewers"),
        ("sla_breaches", limits.sla_breaches_above, f"cases waited longer than the {policy.review.sla_hours:g}-hour SLA"),
    )
    alerts = []
    for name, limit, what in checks:
        value = measures.get(name)
        if value is None or value <= limit:
            continue
        is_rate = name.endswith("_rate")
        shown, bound = (f"{value:.1%}", f"{limit:.0%}") if is_rate else (str(value), f"{limit:g}")
        alerts.append({"measure": name, "value": value, "limit": limit, "message": f"{shown} {what} (alert above {bound})"})
    return alerts
