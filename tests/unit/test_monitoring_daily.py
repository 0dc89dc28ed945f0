"""One scoring day's monitoring on the real seed data: drift against the reference, the performance window, the stored summary."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from keel.models.seed_features import seed_feature_frame
from keel.monitoring import build_reference_profile, load_monitoring_config
from keel.monitoring.daily import (
    check_verdict,
    drift_for_day,
    monitor_day,
    monitor_day_after_drift,
    scores_in_row_order,
    summary_frame,
    trailing_window,
)
from keel.monitoring.severity import ALERT, OK, WARN

CONFIG = load_monitoring_config()
DAY = dt.date(2026, 1, 20)
# What the monitoring step reads of the trailing window (assets/monitoring.py DECISIONS_SQL).
DECISION_COLUMNS = ("application_id", "application_date", "p_bad", "route", "age_band", "home", "marital", "job")


def _score(frame: pd.DataFrame) -> pd.Series:
    # A monotone stand-in for the model's p_bad, realistic enough in shape.
    return pd.Series(1 / (1 + np.exp(-(frame["has_records"].to_numpy() * 1.5 - frame["seniority_years"].to_numpy() / 8))), index=frame.index)


@pytest.fixture(scope="module")
def seed():
    features = seed_feature_frame()
    order = np.random.default_rng(5).permutation(len(features))
    reference = features.iloc[order[:3000]].reset_index(drop=True)
    rest = features.iloc[order[3000:]].reset_index(drop=True)
    profile = build_reference_profile(reference, _score(reference), daily_volume=100.0)
    return profile, rest


def _window(rest: pd.DataFrame, days: int = 14, per_day: int = 100) -> pd.DataFrame:
    """`days` days of decided applications ending on DAY, drawn from the held-out seed rows."""
    rows = rest.iloc[: days * per_day].copy()
    rows["application_date"] = np.repeat([DAY - dt.timedelta(days=days - 1 - i) for i in range(days)], per_day)[: len(rows)]
    rows["p_bad"] = _score(rows)
    rows["route"] = np.where(rows["p_bad"] < 0.3, "approve", np.where(rows["p_bad"] > 0.6, "decline", "review"))
    return rows


def _outcomes(decided: pd.DataFrame, landed_by: dt.date, delay: int = 7) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "application_id": decided["application_id"],
            "outcome_date": pd.to_datetime(decided["application_date"]) + pd.Timedelta(days=delay),
            "repayment_status": decided["status"],
        }
    )
    return frame[frame["outcome_date"].dt.date <= landed_by]


def _day(seed, today: pd.DataFrame, decided: pd.DataFrame, outcomes: pd.DataFrame):
    profile, _ = seed
    decisions = decided[list(DECISION_COLUMNS)]
    return monitor_day(
        DAY, profile=profile, model_version="m-test", features=today, scores=_score(today), decisions=decisions, outcomes=outcomes, config=CONFIG
    )


def test_a_quiet_day_raises_no_drift_and_judges_the_landed_window(seed):
    _, rest = seed
    decided = _window(rest)
    today = decided[decided["application_date"] == DAY]
    day = _day(seed, today, decided, _outcomes(decided, DAY))
    assert day.drift.feature_severity in (OK, WARN) and not day.drift.dataset_drifted
    window = day.performance.window
    # Outcomes land 7 days later: 7 of the 14 cohorts are labelled by DAY.
    assert window["n_labelled"] == 700 and window["judged"]
    assert 0.5 < window["roc_auc"] <= 1.0
    assert day.performance.today["n"] == 100 and day.performance.today["expected_bad_rate"] == pytest.approx(today["p_bad"].mean())


def test_falling_incomes_and_an_unseen_job_alert(seed):
    _, rest = seed
    decided = _window(rest)
    today = decided[decided["application_date"] == DAY].copy()
    today["income"] = today["income"] * 0.5
    today.loc[today.index[:30], "job"] = "gig"
    day = _day(seed, today, decided, _outcomes(decided, DAY))
    assert "income" in day.drift.features_at_alert and "job" in day.drift.features_at_alert
    assert day.drift.feature_severity == ALERT
    summary = day.summary("report.html")
    assert "income" in summary["feature_alerts"] and summary["severity"] == ALERT and summary["report_path"] == "report.html"


def test_before_any_outcome_lands_performance_is_not_judged(seed):
    _, rest = seed
    decided = _window(rest)
    day = _day(seed, decided[decided["application_date"] == DAY], decided, _outcomes(decided, DAY - dt.timedelta(days=30)))
    assert not day.performance.window["judged"] and day.performance.severity == OK
    assert day.summary()["roc_auc"] is None


def test_a_corrected_outcome_counts_from_the_day_it_lands(seed):
    _, rest = seed
    decided = _window(rest)
    today = decided[decided["application_date"] == DAY]
    landed = _outcomes(decided, DAY)
    # The source sends 50 labelled applications' outcomes again, flipped, on DAY: corrections.
    corrected = landed.iloc[:50].assign(outcome_date=pd.Timestamp(DAY), repayment_status=lambda f: f["repayment_status"].map({"good": "bad", "bad": "good"}))
    with_corrections = pd.concat([landed, corrected], ignore_index=True)
    before = _day(seed, today, decided, landed).performance.window
    after = _day(seed, today, decided, with_corrections).performance.window
    # Each application still counts once, with its corrected label.
    assert after["n_labelled"] == before["n_labelled"] == 700
    flipped_bad = (corrected["repayment_status"] == "bad").sum() - (landed.iloc[:50]["repayment_status"] == "bad").sum()
    assert after["observed_bad_rate"] == pytest.approx(before["observed_bad_rate"] + flipped_bad / 700)
    # The day before the corrections landed is judged on the first outcomes, as it was then.
    day_before = monitor_day_after_drift(
        DAY - dt.timedelta(days=1), drift=None, model_version="m-test", decisions=decided[list(DECISION_COLUMNS)],
        outcomes=with_corrections, config=CONFIG,
    ).performance.window
    assert day_before["observed_bad_rate"] == pytest.approx(
        monitor_day_after_drift(
            DAY - dt.timedelta(days=1), drift=None, model_version="m-test", decisions=decided[list(DECISION_COLUMNS)],
            outcomes=landed, config=CONFIG,
        ).performance.window["observed_bad_rate"]
    )


def test_drift_measured_first_and_the_window_after_give_the_same_day(seed):
    """The monitoring step measures drift and lets the day's rows go before it reads the window."""
    profile, rest = seed
    decided = _window(rest)
    today = decided[decided["application_date"] == DAY].copy()
    today["income"] = today["income"] * 0.5
    decisions = decided[list(DECISION_COLUMNS)]
    outcomes = _outcomes(decided, DAY)
    whole = _day(seed, today, decided, outcomes)
    drift = drift_for_day(DAY, profile, today, _score(today), CONFIG)
    split = monitor_day_after_drift(DAY.isoformat(), drift=drift, model_version="m-test", decisions=decisions, outcomes=outcomes, config=CONFIG)
    assert split.day == DAY
    assert split.summary() == whole.summary() and whole.summary()["performance_n_labelled"] == 700
    pd.testing.assert_frame_equal(split.drift.feature_table, whole.drift.feature_table)
    pd.testing.assert_frame_equal(split.performance.cohorts, whole.performance.cohorts)
    pd.testing.assert_frame_equal(split.segments.table, whole.segments.table)


def test_without_a_profile_the_window_is_still_judged(seed):
    _, rest = seed
    decided = _window(rest)
    decisions = decided[list(DECISION_COLUMNS)]
    day = monitor_day_after_drift(
        DAY, drift=None, model_version=None, decisions=decisions, outcomes=_outcomes(decided, DAY), config=CONFIG,
        no_reference_reason="no model",
    )
    assert day.drift is None and day.no_reference_reason == "no model"
    assert day.performance.window["judged"] and len(day.segments.table) > 0
    assert day.summary()["share_drifted"] is None


def test_the_summary_keeps_its_column_types_when_a_first_day_has_no_figures(seed):
    _, rest = seed
    decided = _window(rest)
    unlabelled = _day(seed, decided[decided["application_date"] == DAY], decided, _outcomes(decided, DAY - dt.timedelta(days=30)))
    frame = summary_frame([unlabelled.summary()])
    # A column created from an all-missing first day must still take a later day's figure.
    assert frame["roc_auc"].dtype == "float64" and frame["performance_judged"].dtype == "boolean"
    assert frame["n_rows"].dtype == "Int64"


def test_trailing_window_and_verdicts():
    assert trailing_window("2026-01-14", 14) == (dt.date(2026, 1, 1), dt.date(2026, 1, 14))
    assert check_verdict(OK) == (True, None)
    assert check_verdict(WARN) == (False, WARN) and check_verdict(ALERT) == (False, ALERT)
    with pytest.raises(ValueError, match="unknown monitoring severity"):
        check_verdict("red")


@pytest.mark.parametrize(
    "score_ids",
    [["A1", "A2", "A3", "A4"], ["A1", "A3", "A4"], ["A4", "A3", "A2", "A1"], ["A1", "A2", "A3", "A9"], []],
    ids=["aligned", "one unscored", "other order", "another id", "none scored"],
)
def test_scores_in_row_order_are_the_joined_scores(score_ids):
    features = pd.DataFrame({"application_id": pd.Series(["A1", "A2", "A3", "A4"], dtype="str"), "age": [30, 40, 50, 60]})
    scores = pd.DataFrame({"application_id": pd.Series(score_ids, dtype="str"), "p_bad": np.linspace(0.1, 0.4, len(score_ids))})
    expected = features[["application_id"]].merge(scores, on="application_id", how="left")["p_bad"]
    found = scores_in_row_order(features, scores)
    assert found.tolist() == pytest.approx(expected.tolist(), nan_ok=True)
    assert list(found.index) == list(features.index)
