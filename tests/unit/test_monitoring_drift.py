"""Drift on the real seed data: a random split is quiet, falling incomes are loud."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from keel.columns import CATEGORICAL_FEATURES, NUMERIC_FEATURES
from keel.models.seed_features import seed_feature_frame
from keel.monitoring import (
    ALERT,
    OK,
    build_reference_profile,
    daily_summary,
    dataset_drift,
    feature_drift,
    load_monitoring_config,
    score_drift,
    volume_change,
)
from keel.monitoring.statistics import NULL_BUCKET

CONFIG = load_monitoring_config()


@pytest.fixture(scope="module")
def split():
    """3,000 seed rows as the training reference, the other 1,454 as "today"; a stand-in score."""
    features = seed_feature_frame()
    order = np.random.default_rng(11).permutation(len(features))
    reference, current = features.iloc[order[:3000]], features.iloc[order[3000:]]
    # A monotone stand-in for p_bad: enough to give the score a realistic, skewed distribution.
    score = lambda frame: pd.Series(1 / (1 + np.exp(-(frame["has_records"] * 1.5 - frame["seniority_years"] / 8))))
    profile = build_reference_profile(reference, score(reference), daily_volume=100.0)
    return profile, reference, current, score


def test_profile_is_json_and_independent_of_row_order(split):
    profile, reference, _, score = split
    shuffled = reference.sample(frac=1.0, random_state=3)
    again = build_reference_profile(shuffled, score(shuffled), daily_volume=100.0)
    assert json.dumps(profile, sort_keys=True) == json.dumps(again, sort_keys=True)
    assert json.loads(json.dumps(profile)) == profile

    income = profile["numeric"]["income"]
    assert len(income["cut_points"]) == 9 and len(income["shares"]) == 10
    assert sum(income["shares"]) == pytest.approx(1.0)
    assert income["null_rate"] == pytest.approx(reference["income"].isna().mean())
    assert len(income["sample"]) == 2000
    assert income["min"] == reference["income"].min() and income["max"] == reference["income"].max()
    # a 0/1 flag collapses to two distinct cut points: (-inf, 0], (0, 1], (1, inf)
    assert profile["numeric"]["has_records"]["cut_points"] == [0.0, 1.0]
    assert profile["numeric"]["has_records"]["shares"][2] == 0.0
    job = profile["categorical"]["job"]["counts"]
    assert sum(job.values()) == 3000 and job.get(NULL_BUCKET, 0) == reference["job"].isna().sum()


def test_profile_refuses_a_frame_without_the_features():
    with pytest.raises(ValueError, match="lacks \\['income'\\]"):
        build_reference_profile(pd.DataFrame({"age": [30]}), pd.Series([0.1]), 1.0, numeric_features=("age", "income"), categorical_features=())


def test_a_random_split_of_the_seed_shows_no_drift(split):
    profile, _, current, score = split
    table = feature_drift(profile, current, CONFIG)
    assert list(table["feature"]) == [*NUMERIC_FEATURES, *CATEGORICAL_FEATURES]
    assert (table["severity"] == OK).sum() >= len(table) - 1
    assert table["psi"].max() < 0.1
    assert dataset_drift(table, CONFIG) == (0.0, False)
    assert score_drift(profile, score(current), CONFIG)["severity"] == OK


def test_daily_batches_of_a_random_split_are_mostly_quiet(split):
    profile, _, current, _ = split
    severities = pd.concat([feature_drift(profile, current.iloc[i : i + 100], CONFIG)["severity"] for i in range(0, 1400, 100)])
    assert (severities != OK).mean() < 0.05
    assert (severities == ALERT).sum() <= 1


def test_incomes_falling_to_sixty_percent_alert_on_income(split):
    profile, _, current, _ = split
    shifted = current.assign(income=current["income"] * 0.6, installment_to_income=current["installment_to_income"] / 0.6)
    table = feature_drift(profile, shifted.iloc[:100], CONFIG).set_index("feature")
    assert table.loc["income", "severity"] == ALERT
    assert table.loc["income", "drifted"]
    assert "psi" in table.loc["income", "reasons"]
    assert table.loc["installment_to_income", "severity"] == ALERT
    assert table.loc["age", "severity"] == OK


def test_an_unseen_category_and_a_vanished_field_are_caught(split):
    profile, _, current, _ = split
    day = current.iloc[:100].copy()
    day.loc[day.index[:30], "job"] = "gig"
    day["debt"] = np.nan
    table = feature_drift(profile, day, CONFIG).set_index("feature")
    assert table.loc["job", "unseen_share"] == pytest.approx(0.3)
    assert table.loc["job", "severity"] == ALERT
    assert "unseen in training" in table.loc["job", "reasons"]
    assert table.loc["debt", "null_rate_cur"] == 1.0
    assert table.loc["debt", "severity"] == ALERT
    assert np.isnan(table.loc["debt", "ks_statistic"])


def test_dataset_drift_counts_the_share_of_drifted_features():
    table = pd.DataFrame({"feature": list("abcd"), "drifted": [True, True, False, False], "severity": [ALERT, ALERT, OK, OK]})
    assert dataset_drift(table, CONFIG) == (0.5, True)
    assert dataset_drift(table.iloc[1:], CONFIG) == (pytest.approx(1 / 3), False)


def test_score_drift_when_scores_rise(split):
    profile, _, current, score = split
    stats = score_drift(profile, (score(current) + 0.15).clip(upper=1.0), CONFIG)
    assert stats["severity"] == ALERT and stats["drifted"]
    assert stats["mean_shift"] == pytest.approx(0.15, abs=0.02)
    assert len(stats["current_shares"]) == len(stats["reference_shares"])
    json.dumps(stats)


@pytest.mark.parametrize(("n_rows", "severity"), [(100, OK), (60, OK), (45, "warn"), (20, ALERT), (250, "warn"), (500, ALERT), (0, ALERT)])
def test_volume_against_the_training_daily_volume(split, n_rows, severity):
    profile = split[0]
    result = volume_change(profile, n_rows, CONFIG)
    assert result["ratio"] == n_rows / 100.0
    assert result["severity"] == severity


def test_daily_summary_is_json_and_names_the_alerts(split):
    profile, _, current, score = split
    day = current.iloc[:100].assign(income=current["income"].iloc[:100] * 0.6)
    table = feature_drift(profile, day, CONFIG)
    summary = daily_summary("2026-01-05", table, score_drift(profile, score(day), CONFIG), volume_change(profile, 100, CONFIG), CONFIG)
    assert summary["feature_alerts"] == ["income"]
    assert summary["severity"] == ALERT and summary["dataset_drift"] is False
    assert summary["config_sha256"] == CONFIG.sha256
    json.dumps(summary)


def test_drift_reads_the_key_and_the_profiled_features_only_and_measures_the_same(split):
    from keel.monitoring.drift import columns_for_drift

    profile, _, current, _ = split
    table = [*current.columns, "source_file", "source_sha256", "raw_row_hash"]
    columns = columns_for_drift(profile, table)
    assert columns[0] == "application_id"
    assert set(columns[1:]) == {*profile["numeric"], *profile["categorical"]}
    assert not {"source_file", "source_sha256", "raw_row_hash"} & set(columns)
    pd.testing.assert_frame_equal(feature_drift(profile, current[columns], CONFIG), feature_drift(profile, current, CONFIG))
    assert columns_for_drift(None, table) == ["application_id"], "without a profile only the key is read"
    # A profiled feature the table lacks is not invented; feature_drift reports it.
    without_income = columns_for_drift(profile, [c for c in table if c != "income"])
    with pytest.raises(ValueError, match="lacks the profiled features \\['income'\\]"):
        feature_drift(profile, current[without_income], CONFIG)
