"""PSI and ECE against hand-computed values; the scipy-backed figures against scipy itself."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

from keel.monitoring import build_reference_profile, expected_calibration_error, feature_drift, load_monitoring_config, population_stability_index
from keel.monitoring.statistics import NULL_BUCKET, bin_shares, bucket_labels, category_counts


def test_psi_matches_the_hand_computed_value():
    # (0.25 - 0.5) ln(0.25/0.5) + (0.75 - 0.5) ln(0.75/0.5)
    expected = -0.25 * math.log(0.5) + 0.25 * math.log(1.5)
    assert population_stability_index([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected)
    assert expected == pytest.approx(0.27465, abs=1e-5)
    assert population_stability_index([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0


def test_psi_floors_empty_bins_at_epsilon():
    # reference [0.5, 0.5, 0], current [0.4, 0.4, 0.2]: the empty reference bin counts as 1e-4.
    expected = 2 * (-0.1 * math.log(0.4 / 0.5)) + (0.2 - 1e-4) * math.log(0.2 / 1e-4)
    assert population_stability_index([0.5, 0.5, 0.0], [0.4, 0.4, 0.2], epsilon=1e-4) == pytest.approx(expected)


def test_bins_are_right_closed_with_open_outer_bins():
    values = np.array([-100.0, 1.0, 1.5, 2.0, 2.1, 1e9])
    assert bin_shares(values, [1.0, 2.0]).tolist() == pytest.approx([2 / 6, 2 / 6, 2 / 6])


def test_category_counts_keep_missing_values_in_their_own_bucket():
    counts = category_counts(pd.Series(["rent", None, "owner", "rent"], dtype="str"))
    assert counts == {NULL_BUCKET: 1, "owner": 1, "rent": 2}


def _labels_one_object_per_row(values: pd.Series) -> pd.Series:
    """The definition bucket_labels keeps: each value made a Python object, missing ones NULL_BUCKET, then text."""
    return values.astype("object").where(values.notna(), NULL_BUCKET).astype(str)


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["rent", None, "owner", "rent"], dtype="str"),
        pd.Series(["rent", None, "owner"], dtype="object"),
        pd.Series([1, "1", None, 2.5, np.nan, True], dtype="object"),  # 1 and "1" share a text
        pd.Series([3, 1, 3, 2], index=[10, 11, 12, 13]),
        pd.Series([1.5, np.nan, 2.0, 1.5]),
        pd.Series([True, False, True]),
        pd.Series(pd.Categorical(["b", None, "a"], categories=["a", "b", "unused"])),
        pd.Series(pd.array([1, None, 1], dtype="Int64")),
        pd.Series([None, None], dtype="object"),
        pd.Series([], dtype="str"),
    ],
    ids=["str", "object", "mixed", "int", "float", "bool", "categorical", "Int64", "all_missing", "empty"],
)
def test_bucket_labels_and_category_counts_give_what_one_object_per_row_gives(values):
    pd.testing.assert_series_equal(bucket_labels(values), _labels_one_object_per_row(values))
    by_row = _labels_one_object_per_row(values).value_counts()
    assert category_counts(values) == {str(label): int(by_row[label]) for label in sorted(by_row.index)}


def test_expected_calibration_error_by_hand():
    # bin [0.1,0.2): p 0.1, 0.1 with outcomes 0, 1 -> |0.5 - 0.1| ; bin [0.9,1]: p 0.9, 1.0 with 1, 1 -> |1 - 0.95|
    outcomes = np.array([0, 1, 1, 1])
    probabilities = np.array([0.1, 0.1, 0.9, 1.0])
    assert expected_calibration_error(outcomes, probabilities) == pytest.approx(0.5 * 0.4 + 0.5 * 0.05)


def test_drift_figures_equal_scipy_on_the_same_inputs():
    rng = np.random.default_rng(7)
    reference = pd.DataFrame(
        {
            "x": rng.normal(0, 1, 500),
            "colour": rng.choice(["red", "green", "blue"], 500, p=[0.5, 0.3, 0.2]),
        }
    )
    current = pd.DataFrame(
        {
            "x": rng.normal(0.3, 1.2, 120),
            "colour": rng.choice(["red", "green", "purple"], 120, p=[0.4, 0.4, 0.2]),
        }
    )
    profile = build_reference_profile(
        reference, pd.Series(rng.random(500)), 100.0, numeric_features=("x",), categorical_features=("colour",)
    )
    assert profile["numeric"]["x"]["sample"] == sorted(reference["x"].tolist())  # 500 < sample size: all values kept

    table = feature_drift(profile, current, load_monitoring_config()).set_index("feature")
    ks = ks_2samp(reference["x"], current["x"])
    assert table.loc["x", "ks_statistic"] == pytest.approx(ks.statistic)
    assert table.loc["x", "ks_pvalue"] == pytest.approx(ks.pvalue)
    assert table.loc["x", "wasserstein"] == pytest.approx(wasserstein_distance(reference["x"], current["x"]))

    # categories in sorted order: blue, green, purple (unseen in reference), red
    ref_counts = [reference["colour"].eq(c).sum() for c in ("blue", "green", "purple", "red")]
    cur_counts = [current["colour"].eq(c).sum() for c in ("blue", "green", "purple", "red")]
    assert ref_counts[2] == 0 and cur_counts[2] > 0
    assert table.loc["colour", "chi2_pvalue"] == pytest.approx(chi2_contingency([ref_counts, cur_counts]).pvalue)
    assert table.loc["colour", "js_distance"] == pytest.approx(jensenshannon(ref_counts, cur_counts, base=2))
    assert table.loc["colour", "unseen_share"] == pytest.approx(cur_counts[2] / 120)
    ref_shares = np.array(ref_counts) / 500
    cur_shares = np.array(cur_counts) / 120
    assert table.loc["colour", "psi"] == pytest.approx(population_stability_index(ref_shares, cur_shares))


def test_distribution_tests_see_every_row_of_a_normal_day_and_a_fixed_draw_of_a_huge_one():
    import numpy as np

    from keel.monitoring.statistics import rows_for_distribution_tests

    normal_day = np.arange(5_000, dtype="float64")
    assert rows_for_distribution_tests(normal_day) is normal_day
    huge_day = np.random.default_rng(3).normal(size=300_000)
    drawn = rows_for_distribution_tests(huge_day, max_rows=100_000)
    assert len(drawn) == 100_000 and len(np.unique(drawn)) == 100_000
    assert np.array_equal(drawn, rows_for_distribution_tests(huge_day, max_rows=100_000)), "the same day gives the same draw"
    assert abs(np.quantile(drawn, 0.9) - np.quantile(huge_day, 0.9)) < 0.02
