"""The reference profile: what the model's training data looked like, stored with each model version.

Drift is always "compared with what the model learned from", so when a model
version is registered its training features and scores are summarised here
and the summary is stored in the control store next to the artifact. Daily
monitoring then needs only this JSON document and the day's rows, never the
training set itself.

Per numeric feature: decile cut points (deduplicated, because many features
are discrete), the reference share in each bin, min/max/mean, the missing
rate, and a sample of at most `sample_size` values for the KS test and the
Wasserstein distance. Per categorical feature: row counts per category with
missing values in their own bucket. The same summary is kept for the score.

The output is deterministic and independent of row order: the sample is taken
at evenly spaced ranks of the sorted values rather than at random, so
the same rows in any order give byte-identical JSON (and the profile's hash
can be recorded like every other artifact).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from keel.columns import CATEGORICAL_FEATURES, NUMERIC_FEATURES
from keel.monitoring.statistics import bin_shares, category_counts, missing_rate, numeric_values

PROFILE_FORMAT = 1
DEFAULT_BINS = 10
DEFAULT_SAMPLE_SIZE = 2000
NUMERIC = "numeric"
CATEGORICAL = "categorical"


def build_reference_profile(
    features: pd.DataFrame,
    scores: pd.Series,
    daily_volume: float,
    *,
    numeric_features: tuple[str, ...] = NUMERIC_FEATURES,
    categorical_features: tuple[str, ...] = CATEGORICAL_FEATURES,
    bins: int = DEFAULT_BINS,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
) -> dict:
    """Summarise the training features and scores into a JSON-serializable profile.

    `scores` are the model's p_bad on the training rows; they need not share
    the features' index or length (a model is often scored on its training
    split only). `daily_volume` is the average number of applications per day
    in the training window, the yardstick for the daily volume check.
    """
    missing = [name for name in (*numeric_features, *categorical_features) if name not in features.columns]
    if missing:
        raise ValueError(
            f"reference profile: the feature frame lacks {missing} (has {list(features.columns)})"
        )
    if not daily_volume > 0:
        raise ValueError(f"reference profile: daily_volume must be positive, found {daily_volume!r}")
    return {
        "format": PROFILE_FORMAT,
        "n_rows": int(len(features)),
        "daily_volume": float(daily_volume),
        "numeric": {name: numeric_summary(features[name], bins, sample_size) for name in numeric_features},
        "categorical": {name: categorical_summary(features[name]) for name in categorical_features},
        "score": numeric_summary(pd.Series(scores), bins, sample_size),
    }


def numeric_summary(values: pd.Series, bins: int = DEFAULT_BINS, sample_size: int = DEFAULT_SAMPLE_SIZE) -> dict:
    """Quantile bins, shares, range, missing rate and a rank-spaced sample of one numeric column."""
    finite = np.sort(numeric_values(values))
    if len(finite) == 0:
        return {
            "n": 0, "null_rate": missing_rate(values), "min": None, "max": None, "mean": None,
            "cut_points": [], "shares": [], "sample": [],
        }
    interior = np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    # Discrete features (term in months, a 0/1 flag) repeat quantiles; one cut per distinct value.
    cut_points = np.unique(interior)
    return {
        "n": int(len(finite)),
        "null_rate": missing_rate(values),
        "min": float(finite[0]),
        "max": float(finite[-1]),
        "mean": float(finite.mean()),
        "cut_points": [float(c) for c in cut_points],
        "shares": [float(s) for s in bin_shares(finite, cut_points)],
        "sample": [float(v) for v in rank_spaced_sample(finite, sample_size)],
    }


def categorical_summary(values: pd.Series) -> dict:
    """Row counts per category (missing values under their own bucket) and the missing rate."""
    counts = category_counts(values)
    return {"n": int(len(values)), "null_rate": missing_rate(values), "counts": counts}


def rank_spaced_sample(sorted_values: np.ndarray, size: int) -> np.ndarray:
    """At most `size` values taken at evenly spaced ranks: a miniature of the same distribution."""
    if len(sorted_values) <= size:
        return sorted_values
    ranks = np.round(np.linspace(0, len(sorted_values) - 1, size)).astype("int64")
    return sorted_values[ranks]
