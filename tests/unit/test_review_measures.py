"""Review operating measures: rates, pending backlog, SLA breaches and alerts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from keel.policy import load_policy
from keel.review import due_by, review_measures
from keel.review.final_decisions import final_decisions

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policies" / "credit_policy.yaml")
QUEUED = dt.datetime(2026, 1, 15, 6, 0, tzinfo=dt.timezone.utc)


def decisions() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "application_id": [f"A{i}" for i in range(1, 9)],
            "route": ["approve", "approve", "decline", "decline", "review", "review", "review", "review"],
            "suggested_decision": ["approve", "approve", "decline", "decline", "approve", "decline", "approve", "approve"],
            "qa_sampled": [False, False, False, False, False, False, True, False],
        }
    )
    frame["queued_at"] = QUEUED.isoformat()
    return frame


def outcomes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "application_id": ["A5", "A6", "A7"],
            "decision": ["approve", "approve", "decline"],  # A6 and A7 overridden; A7 was a QA sample
            "reviewer": ["mchen"] * 3,
            "reason": ["ok", "collateral", "records"],
            "reviewed_at": ["2026-01-15T12:00:00+00:00", "2026-01-16T07:00:00+00:00", "2026-01-15T09:00:00+00:00"],
        }
    )


def test_due_by_adds_the_policy_sla():
    assert due_by(QUEUED, POLICY) == QUEUED + dt.timedelta(hours=24)


def test_measures_count_rates_backlog_and_breaches():
    frame = decisions()
    final = final_decisions(frame, outcomes())
    now = dt.datetime(2026, 1, 16, 9, 0, tzinfo=dt.timezone.utc)
    measures = review_measures(frame, final, now, POLICY)
    assert measures["review_rate"] == pytest.approx(4 / 8)
    assert measures["reviewed_count"] == 3 and measures["pending_count"] == 1
    assert measures["override_rate"] == pytest.approx(2 / 3)
    assert measures["qa_disagreement_rate"] == pytest.approx(1.0)
    assert measures["oldest_pending_hours"] == pytest.approx(27.0)
    # A8 still pending past its 24 h deadline; A6 reviewed an hour late.
    assert (measures["sla_breaches_pending"], measures["sla_breaches_reviewed_late"], measures["sla_breaches"]) == (1, 1, 2)
    alerted = {alert["measure"] for alert in measures["alerts"]}
    assert alerted == {"override_rate", "qa_disagreement_rate", "sla_breaches"}  # review rate 50% is not above 50%


def test_no_breach_before_the_deadline_and_undefined_rates_are_none():
    frame = decisions()
    final = final_decisions(frame, None)
    measures = review_measures(frame, final, dt.datetime(2026, 1, 15, 8, 0, tzinfo=dt.timezone.utc), POLICY)
    assert measures["sla_breaches"] == 0 and measures["pending_count"] == 4
    assert measures["override_rate"] is None and measures["qa_disagreement_rate"] is None
    assert measures["oldest_pending_hours"] == pytest.approx(2.0)
    assert measures["alerts"] == []


def test_a_due_by_column_is_used_without_the_policy():
    frame = decisions().drop(columns=["queued_at"])
    frame["due_by"] = (QUEUED + dt.timedelta(hours=1)).isoformat()
    measures = review_measures(frame, final_decisions(frame, None), dt.datetime(2026, 1, 15, 8, 0, tzinfo=dt.timezone.utc))
    assert measures["sla_breaches_pending"] == 4 and measures["oldest_pending_hours"] is None and "alerts" not in measures


def test_measures_need_a_timezone_and_a_deadline():
    frame = decisions()
    final = final_decisions(frame, None)
    with pytest.raises(ValueError, match="timezone"):
        review_measures(frame, final, dt.datetime(2026, 1, 16), POLICY)
    with pytest.raises(ValueError, match="due_by column"):
        review_measures(frame.drop(columns=["queued_at"]), final, dt.datetime(2026, 1, 16, tzinfo=dt.timezone.utc))
