"""Routing under the credit policy: thresholds, hard rules, out-of-distribution, fallback, QA sampling."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keel.policy import DECISION_COLUMNS, PolicyApplicationError, TrainingProfile, decide, describe_reasons, load_policy

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policies" / "credit_policy.yaml")
NO_QA = replace(POLICY, qa_sample_rate=0.0)

# An unremarkable application: inside the training ranges below, no rule fires, zero scorecard points.
ORDINARY = {
    "seniority_years": 10.0,
    "loan_term_months": 36.0,
    "age": 40.0,
    "expenses": 50.0,
    "income": 200.0,
    "assets": 1000.0,
    "debt": 0.0,
    "amount": 1000.0,
    "price": 1500.0,
    "has_records": 0,
    "loan_to_price": 1000.0 / 1500.0,
    "installment_to_income": (1000.0 / 36.0) / 200.0,
    "home": "owner",
    "marital": "married",
    "job": "fixed",
    "age_band": "36-45",
}


def applications(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame([{**ORDINARY, **row} for row in rows])
    frame.insert(0, "application_id", [f"A{i:06d}" for i in range(1, len(frame) + 1)])
    frame.insert(1, "application_date", pd.Timestamp("2026-01-15"))
    for column in ("home", "marital", "job", "age_band"):
        frame[column] = frame[column].astype("str")
    return frame


def training_profile() -> TrainingProfile:
    low = {**ORDINARY, "income": 50.0, "amount": 100.0, "price": 105.0, "loan_to_price": 0.1, "job": "freelance", "home": "rent"}
    high = {**ORDINARY, "income": 950.0, "amount": 5000.0, "price": 11000.0, "loan_to_price": 1.0, "job": "partime", "has_records": 1}
    return TrainingProfile.from_frame(applications([low, ORDINARY, high]))


PROFILE = training_profile()


def codes(decisions: pd.DataFrame) -> list[list[str]]:
    return [json.loads(text) for text in decisions["reason_codes"]]


def test_output_has_one_row_per_application_with_the_documented_columns():
    frame = applications([{}, {}, {}])
    decided = decide(frame, pd.Series([0.1, 0.3, 0.7]), NO_QA, PROFILE, model_available=True)
    assert list(decided.columns) == list(DECISION_COLUMNS)
    assert decided["application_id"].tolist() == frame["application_id"].tolist()
    assert (decided["policy_version"] == POLICY.version).all()
    assert (decided["policy_sha256"] == POLICY.content_sha256).all()
    assert decided["route"].dtype == "str" and decided["model_unavailable"].dtype == bool


def test_thresholds_at_their_boundaries():
    scores = [0.0, 0.1999, 0.20, 0.3999, 0.40, 0.5999, 0.60, 1.0]
    decided = decide(applications([{}] * len(scores)), pd.Series(scores), NO_QA, PROFILE, model_available=True)
    assert decided["route"].tolist() == ["approve", "approve", "review", "review", "review", "review", "decline", "decline"]
    assert decided["suggested_decision"].tolist() == ["approve"] * 4 + ["decline"] * 4
    assert codes(decided) == (
        [["SCORE_BELOW_APPROVE_THRESHOLD"]] * 2 + [["SCORE_IN_REVIEW_BAND"]] * 4 + [["SCORE_AT_OR_ABOVE_DECLINE_THRESHOLD"]] * 2
    )
    assert (decided["decided_by"] == "model").all() and not decided["model_unavailable"].any()
    assert decided["fallback_points"].isna().all()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"income": np.nan, "installment_to_income": np.nan}, "INCOME_MISSING"),
        ({"amount": 3000.0, "loan_to_price": 2.0}, "AMOUNT_FAR_ABOVE_PRICE"),
        ({"price": 0.0, "loan_to_price": np.nan}, "PRICE_MISSING"),
        ({"price": np.nan, "loan_to_price": np.nan}, "PRICE_MISSING"),
        ({"installment_to_income": 1.2}, "INSTALLMENT_EXCEEDS_INCOME"),
    ],
)
def test_each_hard_rule_sends_a_low_risk_case_to_review(change, code):
    decided = decide(applications([change]), pd.Series([0.05]), NO_QA, PROFILE, model_available=True)
    assert decided.loc[0, "route"] == "review"
    assert decided.loc[0, "suggested_decision"] == "approve"  # the score still says approve; a person decides
    assert code in codes(decided)[0] and "SCORE_BELOW_APPROVE_THRESHOLD" in codes(decided)[0]


def test_hard_rules_do_not_fire_at_their_limit():
    decided = decide(applications([{"loan_to_price": 1.5}, {"installment_to_income": 1.0}]), pd.Series([0.05, 0.05]), NO_QA, None, False)
    assert not any(code in ("AMOUNT_FAR_ABOVE_PRICE", "INSTALLMENT_EXCEEDS_INCOME") for row in codes(decided) for code in row)


def test_out_of_range_numeric_feature_goes_to_review_but_the_margin_is_allowed():
    # income trained on [50, 950]: range 900, margin 10% -> accepted from -40 to 1040.
    rows = [{"income": 1030.0}, {"income": 1050.0}, {"income": -45.0}, {"income": np.nan}]
    decided = decide(applications(rows), pd.Series([0.05] * 4), NO_QA, PROFILE, model_available=True)
    flagged = ["OUT_OF_TRAINING_RANGE:income" in row for row in codes(decided)]
    assert flagged == [False, True, True, False]
    assert decided["route"].tolist() == ["approve", "review", "review", "review"]  # the last: INCOME_MISSING


def test_unseen_category_goes_to_review_and_missing_category_does_not():
    rows = [{"job": "astronaut"}, {"job": None}, {"job": "partime"}]
    decided = decide(applications(rows), pd.Series([0.05] * 3), NO_QA, PROFILE, model_available=True)
    assert codes(decided)[0] == ["SCORE_BELOW_APPROVE_THRESHOLD", "UNSEEN_CATEGORY:job"]
    assert decided["route"].tolist() == ["review", "approve", "approve"]
    assert describe_reasons(["UNSEEN_CATEGORY:job"]) == ["job has a value the model never saw in training."]


def test_without_training_profile_model_decisions_go_to_review():
    decided = decide(applications([{}]), pd.Series([0.05]), NO_QA, None, model_available=True)
    assert decided.loc[0, "route"] == "review"
    assert "TRAINING_PROFILE_MISSING" in codes(decided)[0]


def test_model_unavailable_falls_back_to_the_scorecard():
    rows = [
        {},  # 0 points -> approve
        {"has_records": 1},  # 30 -> review band, suggest approve
        {"has_records": 1, "job": "partime"},  # 55 -> decline
        {"has_records": 1, "seniority_years": 1.0},  # 45 -> review band, suggest decline
    ]
    decided = decide(applications(rows), pd.Series([0.01, 0.01, 0.01, 0.01]), NO_QA, PROFILE, model_available=False)
    assert decided["fallback_points"].tolist() == [0.0, 30.0, 55.0, 45.0]
    assert decided["route"].tolist() == ["approve", "review", "decline", "review"]
    assert decided["suggested_decision"].tolist() == ["approve", "approve", "decline", "decline"]
    assert (decided["decided_by"] == "fallback_rules").all() and decided["model_unavailable"].all()
    assert codes(decided)[2] == [
        "FALLBACK_POINTS_AT_OR_ABOVE_DECLINE_THRESHOLD",
        "MODEL_UNAVAILABLE",
        "SCORECARD_PART_TIME_JOB",
        "SCORECARD_PAST_RECORDS",
    ]


def test_cases_the_model_failed_to_score_fall_back_individually():
    decided = decide(applications([{}, {}, {}]), pd.Series([0.05, np.nan, 1.7]), NO_QA, PROFILE, model_available=True)
    assert decided["decided_by"].tolist() == ["model", "fallback_rules", "fallback_rules"]
    assert decided["model_unavailable"].tolist() == [False, True, True]
    assert ["MODEL_UNAVAILABLE" in row for row in codes(decided)] == [False, True, True]


def test_guards_still_apply_when_the_fallback_decides():
    decided = decide(applications([{"income": np.nan, "installment_to_income": np.nan}]), pd.Series([np.nan]), NO_QA, None, False)
    assert decided.loc[0, "route"] == "review"
    assert {"INCOME_MISSING", "MODEL_UNAVAILABLE"} <= set(codes(decided)[0])


def test_qa_sample_takes_about_the_rate_of_automatic_decisions_deterministically():
    frame = applications([{}] * 20_000)
    frame["application_id"] = [f"Q{i:07d}" for i in range(len(frame))]
    first = decide(frame, pd.Series(np.full(len(frame), 0.05)), POLICY, PROFILE, model_available=True)
    again = decide(frame, pd.Series(np.full(len(frame), 0.05)), POLICY, PROFILE, model_available=True)
    share = first["qa_sampled"].mean()
    assert abs(share - POLICY.qa_sample_rate) < 0.006  # about four standard errors at n=20,000
    pd.testing.assert_frame_equal(first, again)
    sampled = first[first["qa_sampled"]]
    assert (sampled["route"] == "review").all() and (sampled["suggested_decision"] == "approve").all()
    assert all("QA_SAMPLE" in row for row in codes(sampled))
    assert (first.loc[~first["qa_sampled"], "route"] == "approve").all()


def test_qa_sample_never_touches_cases_already_in_review_and_grows_with_the_rate():
    frame = applications([{}] * 4000)
    scores = pd.Series(np.where(np.arange(4000) % 2 == 0, 0.05, 0.30))
    small = decide(frame, scores, replace(POLICY, qa_sample_rate=0.05), PROFILE, True)
    large = decide(frame, scores, replace(POLICY, qa_sample_rate=0.20), PROFILE, True)
    assert not small.loc[scores.to_numpy() == 0.30, "qa_sampled"].any()
    assert set(small.loc[small["qa_sampled"], "application_id"]) <= set(large.loc[large["qa_sampled"], "application_id"])
    assert large["qa_sampled"].sum() > small["qa_sampled"].sum()


def test_a_new_salt_draws_a_different_sample():
    frame = applications([{}] * 4000)
    scores = pd.Series(np.full(4000, 0.05))
    one = decide(frame, scores, POLICY, PROFILE, True)
    other = decide(frame, scores, replace(POLICY, qa_sample_salt="another-salt"), PROFILE, True)
    assert set(one.loc[one["qa_sampled"], "application_id"]) != set(other.loc[other["qa_sampled"], "application_id"])


def test_a_case_is_decided_the_same_whatever_the_order_of_the_batch():
    rows = [{"income": np.nan}, {"job": "astronaut", "has_records": 1}, {}, {"loan_to_price": 2.0}] * 50
    frame = applications(rows)
    scores = pd.Series(np.linspace(0.0, 1.0, len(frame)))
    forward = decide(frame, scores, POLICY, PROFILE, True).set_index("application_id")
    backward_frame = frame.iloc[::-1].reset_index(drop=True)
    backward = decide(backward_frame, scores.iloc[::-1].reset_index(drop=True), POLICY, PROFILE, True).set_index("application_id")
    pd.testing.assert_frame_equal(forward, backward.loc[forward.index])
    assert all(row == sorted(row) and len(row) == len(set(row)) for row in codes(forward.reset_index()))


def test_misaligned_or_duplicated_input_is_refused():
    frame = applications([{}, {}])
    with pytest.raises(PolicyApplicationError, match="not aligned"):
        decide(frame, pd.Series([0.1, 0.2], index=[5, 6]), POLICY, PROFILE, True)
    with pytest.raises(PolicyApplicationError, match="2 applications"):
        decide(frame, np.array([0.1]), POLICY, PROFILE, True)
    frame.loc[1, "application_id"] = frame.loc[0, "application_id"]
    with pytest.raises(PolicyApplicationError, match="more than once"):
        decide(frame, pd.Series([0.1, 0.2]), POLICY, PROFILE, True)


def test_a_column_the_policy_reads_must_be_present():
    frame = applications([{}]).drop(columns=["loan_to_price"])
    with pytest.raises(PolicyApplicationError, match="AMOUNT_FAR_ABOVE_PRICE.*'loan_to_price'"):
        decide(frame, pd.Series([0.1]), POLICY, None, True)
    with pytest.raises(PolicyApplicationError, match="SCORECARD_HIGH_LOAN_TO_PRICE.*'loan_to_price'"):
        decide(frame, pd.Series([np.nan]), POLICY, None, False)


def test_describe_reasons_uses_the_policy_for_its_own_codes():
    sentences = describe_reasons('["INCOME_MISSING", "QA_SAMPLE", "NOT_A_CODE"]', POLICY)
    assert sentences[0] == next(r.description for r in POLICY.hard_rules if r.code == "INCOME_MISSING")
    assert "quality assurance" in sentences[1]
    assert sentences[2].startswith("NOT_A_CODE: no description")
    assert describe_reasons([]) == []
