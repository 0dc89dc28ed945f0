"""The few statistics monitoring needs that scipy and scikit-learn do not provide.

KS, Wasserstein, chi-squared and Jensen-Shannon come from scipy and ROC AUC
and Brier from scikit-learn (called where they are used). What is left is
the population stability index, the binning it runs on, and the expected
calibration error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# The bucket that missing categorical values are counted in; brackets keep it
# from colliding with a real category name.
NULL_BUCKET = "(missing)"
DEFAULT_PSI_EPSILON = 1e-4


def numeric_values(values: pd.Series | np.ndarray) -> np.ndarray:
    """The finite values as float64; missing and infinite values are left out.

    Infinite values arise from ratios with a zero denominator and carry no
    position on the scale, so they are counted with the missing ones.
    """
    array = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return array[np.isfinite(array)]


# The two-sample tests (KS, Wasserstein) sort both samples: on a million-row
# day that was most of the monitoring step. The reference side is a sample of
# a few thousand rows, so the day's side adds nothing to the tests' power
# past this size; PSI, null rates and volume still use every row.
DISTRIBUTION_TEST_ROWS = 100_000


def rows_for_distribution_tests(values: np.ndarray, max_rows: int = DISTRIBUTION_TEST_ROWS) -> np.ndarray:
    """`values`, or a fixed-seed draw of max_rows of them: the same day always gives the same figures."""
    if len(values) <= max_rows:
        return values
    return values[np.sort(np.random.default_rng(0).choice(len(values), size=max_rows, replace=False))]


def missing_rate(values: pd.Series) -> float:
    """Share of rows with no usable value (missing, or infinite for numbers)."""
    if len(values) == 0:
        return float("nan")
    if pd.api.types.is_numeric_dtype(values.dtype):
        return float(1.0 - len(numeric_values(values)) / len(values))
    return float(values.isna().mean())


def bin_index(values: np.ndarray, cut_points: list[float] | np.ndarray) -> np.ndarray:
    """The bin of each value for bins (-inf, c1], (c1, c2], ..., (ck, +inf).

    Outer bins are open-ended so values beyond the reference range still land
    somewhere (and show up as drift) instead of being dropped.
    """
    return np.searchsorted(np.asarray(cut_points, dtype="float64"), values, side="left")


def bin_shares(values: np.ndarray, cut_points: list[float] | np.ndarray) -> np.ndarray:
    """Share of `values` in each of the len(cut_points) + 1 bins (all zeros if there are no values)."""
    counts = np.bincount(bin_index(values, cut_points), minlength=len(cut_points) + 1).astype("float64")
    total = counts.sum()
    return counts / total if total else counts


def population_stability_index(
    reference_shares: np.ndarray | list[float],
    current_shares: np.ndarray | list[float],
    epsilon: float = DEFAULT_PSI_EPSILON,
) -> float:
    """PSI = sum over bins of (current - reference) * ln(current / reference).

    A bin that is empty on either side would make the logarithm infinite, so
    shares below `epsilon` are raised to `epsilon` first (without
    renormalising). An empty bin therefore adds a large but finite amount:
    a category never seen in training that takes 30% of today's rows adds
    about 0.3 * ln(0.3 / 1e-4) = 2.4, far past any alert level.
    """
    reference = np.maximum(np.asarray(reference_shares, dtype="float64"), epsilon)
    current = np.maximum(np.asarray(current_shares, dtype="float64"), epsilon)
    if reference.shape != current.shape:
        raise ValueError(f"PSI needs shares over the same bins: {reference.shape} reference vs {current.shape} current")
    return float(np.sum((current - reference) * np.log(current / reference)))


def bucket_labels(values: pd.Series) -> pd.Series:
    """Each value as text, missing ones as NULL_BUCKET (text dtype, `values`' index).

    What `values.astype(object).where(values.notna(), NULL_BUCKET).astype(str)`
    gives, with one Python str per distinct value rather than per row: that
    took ~0.2 s per column of a million-row day. Object columns keep the
    per-row way: factorizing them would merge values Python calls equal
    but writes differently (True and 1).
    """
    if values.dtype == object:
        return values.astype("object").where(values.notna(), NULL_BUCKET).astype(str)
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    texts = pd.array([NULL_BUCKET, *(str(value) for value in distinct)], dtype="str")
    return pd.Series(texts.take(codes + 1), index=values.index)


def category_counts(values: pd.Series) -> dict[str, int]:
    """Rows per category (its text, as bucket_labels gives), missing values counted under NULL_BUCKET; keys sorted for stable output."""
    if values.dtype == object:
        values = bucket_labels(values)
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    rows = np.bincount(codes + 1, minlength=len(distinct) + 1)
    counts: dict[str, int] = {}
    # Distinct values may share a text (1 and "1"): their rows add up under it.
    for label, count in zip([NULL_BUCKET, *(str(value) for value in distinct)], rows.tolist(), strict=True):
        if count:
            counts[label] = counts.get(label, 0) + count
    return {label: counts[label] for label in sorted(counts)}


def expected_calibration_error(outcomes: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over `bins` equal-width probability bins.

    ECE = sum over bins of (rows in bin / all rows) * |observed bad rate - mean predicted p_bad|:
    how far, on average per application, the predicted probability is from
    what actually happened to applications scored alike.
    """
    outcomes = np.asarray(outcomes, dtype="float64")
    probabilities = np.asarray(probabilities, dtype="float64")
    if len(outcomes) == 0:
        return float("nan")
    # Bin b holds p in [b/bins, (b+1)/bins); p = 1.0 joins the top bin.
    which = np.minimum((probabilities * bins).astype("int64"), bins - 1)
    counts = np.bincount(which, minlength=bins)
    observed = np.bincount(which, weights=outcomes, minlength=bins)
    predicted = np.bincount(which, weights=probabilities, minlength=bins)
    filled = counts > 0
    gaps = np.abs(observed[filled] - predicted[filled])  # per bin: |sum(y) - sum(p)| = n_b * |mean gap|
    return float(gaps.sum() / len(outcomes))
