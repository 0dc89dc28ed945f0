"""The training profile the out-of-distribution guard compares cases against."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from keel.policy import TrainingProfile


def _training() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "income": [50.0, np.nan, 950.0, np.inf],
            "debt": [np.nan] * 4,
            "job": pd.array(["fixed", "partime", None, "fixed"], dtype="str"),
        }
    )


def test_profile_keeps_finite_ranges_and_seen_categories():
    profile = TrainingProfile.from_frame(_training(), numeric_features=["income", "debt"], categorical_features=["job"])
    assert profile.numeric_ranges == {"income": (50.0, 950.0)}  # debt has no finite value: not checked
    assert profile.categories == {"job": frozenset({"fixed", "partime"})}
    assert profile.rows == 4


def test_profile_round_trips_through_json():
    profile = TrainingProfile.from_frame(_training(), numeric_features=["income", "debt"], categorical_features=["job"])
    text = json.dumps(profile.to_dict(), allow_nan=False)
    assert TrainingProfile.from_dict(json.loads(text)) == profile
    assert profile.to_dict()["categorical"]["job"] == ["fixed", "partime"]


def test_profile_refuses_missing_columns_and_unknown_formats():
    with pytest.raises(ValueError, match=r"\['age'\]"):
        TrainingProfile.from_frame(_training(), numeric_features=["income", "age"], categorical_features=["job"])
    with pytest.raises(ValueError, match="format"):
        TrainingProfile.from_dict({"numeric": {}})
    with pytest.raises(ValueError, match="numeric.income"):
        TrainingProfile.from_dict({"format": 1, "numeric": {"income": {"min": 5, "max": 1}}})
