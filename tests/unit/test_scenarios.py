"""Drift scenarios: deterministic, shifted as intended, and caught by monitoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from keel.columns import SOURCE_APPLICATION_COLUMNS
from keel.models.seed_features import seed_feature_frame
from keel.monitoring import ALERT, build_reference_profile, feature_drift, load_monitoring_config
from keel.scenarios import GIG_JOB, apply_drift, drift_outcomes
from keel.seed import load_seed_applications


@pytest.fixture(scope="module")
def landing() -> pd.DataFrame:
    seed = load_seed_applications()
    return seed.assign(application_date="2026-01-05")[list(SOURCE_APPLICATION_COLUMNS)]


@pytest.fixture(scope="module")
def outcomes() -> pd.DataFrame:
    seed = load_seed_applications()
    return pd.DataFrame({"application_id": seed["application_id"], "outcome_date": "2026-01-12", "status": seed["status"]})


def test_apply_drift_is_deterministic_given_the_seed(landing):
    first, second = apply_drift(landing, 1.0, seed=42), apply_drift(landing, 1.0, seed=42)
    pd.testing.assert_frame_equal(first, second)
    assert not apply_drift(landing, 1.0, seed=43)["job"].equals(first["job"])


def test_full_strength_drops_incomes_to_sixty_percent_and_adds_gig_jobs(landing):
    drifted = apply_drift(landing, 1.0, seed=42)
    assert list(drifted.columns) == list(landing.columns)
    known = landing["income"].notna()
    assert drifted["income"].isna().equals(landing["income"].isna())
    assert np.allclose(drifted.loc[known, "income"], (landing.loc[known, "income"] * 0.6).round())
    gig_share = (drifted["job"] == GIG_JOB).mean()
    assert 0.27 < gig_share < 0.33
    assert GIG_JOB not in set(landing["job"].dropna())
    untouched = [c for c in landing.columns if c not in ("income", "job")]
    pd.testing.assert_frame_equal(drifted[untouched], landing[untouched])
    assert landing["income"].notna().sum() == known.sum()  # the input is not modified


def test_strength_scales_the_shift_and_zero_changes_nothing(landing):
    pd.testing.assert_frame_equal(apply_drift(landing, 0.0, seed=1), landing)
    half = apply_drift(landing, 0.5, seed=1)
    ratio = half["income"].sum() / landing["income"].sum()
    assert ratio == pytest.approx(0.8, abs=0.001)
    assert 0.12 < (half["job"] == GIG_JOB).mean() < 0.18
    with pytest.raises(ValueError, match="between 0 and 1"):
        apply_drift(landing, 1.5, seed=1)


def test_drift_outcomes_raises_the_bad_rate_deterministically(outcomes):
    drifted = drift_outcomes(outcomes, 1.0, seed=7)
    pd.testing.assert_frame_equal(drifted, drift_outcomes(outcomes, 1.0, seed=7))
    before, after = (outcomes["status"] == "bad").mean(), (drifted["status"] == "bad").mean()
    assert before == pytest.approx(1254 / 4454)
    assert after == pytest.approx(before + (1 - before) * 0.3, abs=0.02)
    was_bad = outcomes["status"] == "bad"
    assert (drifted.loc[was_bad, "status"] == "bad").all()  # bad never turns good
    pd.testing.assert_frame_equal(drift_outcomes(outcomes, 0.0, seed=7), outcomes)


def test_monitoring_catches_the_drifted_day(landing):
    features = seed_feature_frame()
    profile = build_reference_profile(features.iloc[:3000], pd.Series(np.full(3000, 0.3)), daily_volume=100.0)
    day = apply_drift(landing.iloc[3000:3100], 1.0, seed=3)
    today = features.iloc[3000:3100].assign(income=day["income"].to_numpy(), job=day["job"].to_numpy())
    table = feature_drift(profile, today, load_monitoring_config()).set_index("feature")
    assert table.loc["income", "severity"] == ALERT
    assert table.loc["job", "severity"] == ALERT and table.loc["job", "unseen_share"] > 0.15
