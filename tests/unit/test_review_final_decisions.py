"""Final decisions: automatic ones stand, reviewed ones take the reviewer's word, the rest stay pending."""

from __future__ import annotations

import pandas as pd
import pytest

from keel.review.final_decisions import FINAL_COLUMNS, final_decisions


def decisions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "application_id": ["A1", "A2", "A3", "A4", "A5"],
            "route": ["approve", "decline", "review", "review", "review"],
            "suggested_decision": ["approve", "decline", "approve", "approve", "decline"],
        }
    )


def outcomes(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"application_id": case, "decision": decision, "reviewer": "mchen", "reason": f"why {case}", "reviewed_at": "2026-01-15T10:00:00+00:00"}
            for case, decision in rows
        ]
    )


def test_reviewed_cases_take_the_reviewers_decision_and_unreviewed_stay_pending():
    final = final_decisions(decisions(), outcomes([("A3", "decline"), ("A5", "decline"), ("Z9", "approve")]))
    assert list(final.columns) == list(FINAL_COLUMNS)
    assert final["application_id"].tolist() == ["A1", "A2", "A3", "A4", "A5"]
    assert final["final_decision"].tolist() == ["approve", "decline", "decline", "pending", "decline"]
    assert final["decided_by"].tolist()[:3] == ["auto", "auto", "reviewer"]
    assert pd.isna(final.loc[3, "decided_by"]) and pd.isna(final.loc[3, "reviewer"])
    assert final["overridden"].tolist() == [False, False, True, False, False]
    assert final.loc[2, "review_reason"] == "why A3" and final.loc[2, "reviewer"] == "mchen"


def test_without_any_outcome_every_review_case_is_pending():
    final = final_decisions(decisions(), None)
    assert final["final_decision"].tolist() == ["approve", "decline", "pending", "pending", "pending"]
    assert not final["overridden"].any()


def test_a_reviewed_case_decided_again_automatically_keeps_the_reviewers_decision():
    # A1 and A2 were in review when mchen decided; their day was decided again and the policy now decides them itself.
    final = final_decisions(decisions(), outcomes([("A1", "decline"), ("A2", "decline")])).set_index("application_id")
    assert final.loc["A1", ["final_decision", "decided_by", "reviewer", "overridden"]].tolist() == ["decline", "reviewer", "mchen", True]
    assert final.loc["A2", ["final_decision", "decided_by", "overridden"]].tolist() == ["decline", "reviewer", False]


def test_a_second_outcome_that_is_not_an_amendment_is_refused():
    with pytest.raises(ValueError, match="A3 has a second review outcome that is not an amendment"):
        final_decisions(decisions(), outcomes([("A3", "decline"), ("A3", "approve")]))


def test_the_latest_amendment_stands_and_overrides_are_judged_on_it():
    taken_in = outcomes([("A3", "decline"), ("A5", "approve"), ("A3", "approve"), ("A3", "decline")]).assign(
        amends=[False, False, True, True], reviewer=["mchen", "mchen", "jdoe", "ana"]
    )
    final = final_decisions(decisions(), taken_in).set_index("application_id")
    assert final.loc["A3", ["final_decision", "reviewer", "overridden"]].tolist() == ["decline", "ana", True]
    assert final.loc["A5", ["final_decision", "reviewer", "overridden"]].tolist() == ["approve", "mchen", True]
    once_amended = final_decisions(decisions(), taken_in.head(3)).set_index("application_id")
    assert once_amended.loc["A3", ["final_decision", "reviewer", "overridden"]].tolist() == ["approve", "jdoe", False]
