"""Evaluation figures agree with scikit-learn; the gate passes and fails for the stated reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from keel.models.evaluation import calibration_error, compare, evaluate, gate

THRESHOLDS = (0.2, 0.5)


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(7)
    rows = 2000
    p = rng.beta(2, 5, rows)
    y = (rng.random(rows) < p).astype(int)
    segments = pd.DataFrame(
        {
            "age_band": rng.choice(["18-25", "26-35", "36-45"], rows),
            "home": np.where(np.arange(rows) < 10, "ignore", rng.choice(["owner", "rent"], rows)),
            "job": pd.Series(rng.choice(["fixed", "partime"], rows)).where(np.arange(rows) % 97 != 0, None),
        }
    )
    return y, p, segments


def test_overall_metrics_match_scikit_learn(scored):
    y, p, segments = scored
    result = evaluate(y, p, segments, THRESHOLDS)
    assert result["roc_auc"] == pytest.approx(roc_auc_score(y, p))
    assert result["pr_auc"] == pytest.approx(average_precision_score(y, p))
    assert result["brier"] == pytest.approx(brier_score_loss(y, p))
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="uniform")
    counts = np.bincount(np.searchsorted(np.linspace(0, 1, 11)[1:-1], p, side="right"), minlength=10)
    weights = counts[counts > 0] / len(p)
    assert result["calibration_error"] == pytest.approx(float(np.sum(weights * np.abs(observed - predicted))))
    assert result["rows"] == len(y) and result["bad_rate"] == pytest.approx(y.mean())


def test_rates_at_the_thresholds_are_counted_by_hand():
    y = np.array([0, 1, 0, 1, 0, 1])
    p = np.array([0.05, 0.19, 0.2, 0.49, 0.5, 0.9])  # 0.2 is not below 0.2; 0.5 is at the decline line
    result = evaluate(y, p, None, THRESHOLDS)
    assert result["approval_rate"] == pytest.approx(2 / 6)
    assert result["review_rate"] == pytest.approx(2 / 6)
    assert result["decline_rate"] == pytest.approx(2 / 6)
    assert result["bad_rate_among_approved"] == pytest.approx(0.5)
    assert result["segments"] == {}


def test_a_perfectly_calibrated_constant_has_no_calibration_error():
    y = np.array([1, 0, 0, 0] * 25)
    assert calibration_error(y, np.full(100, 0.25)) == pytest.approx(0.0)
    assert calibration_error(y, np.full(100, 0.75)) == pytest.approx(0.5)


def test_segments_report_ratios_to_the_best_and_leave_small_ones_out(scored):
    y, p, segments = scored
    result = evaluate(y, p, segments, THRESHOLDS, min_segment_rows=30)
    home = result["segments"]["home"]
    assert home["ignore"]["rows"] == 10 and home["ignore"]["in_ratio"] is False
    assert home["ignore"]["approval_ratio_to_best"] is None
    best = max(home["owner"]["approval_rate"], home["rent"]["approval_rate"])
    assert home["owner"]["approval_ratio_to_best"] == pytest.approx(home["owner"]["approval_rate"] / best)
    assert max(s["approval_ratio_to_best"] for s in home.values() if s["in_ratio"]) == pytest.approx(1.0)
    assert "missing" in result["segments"]["job"]  # a missing job is its own segment, not dropped
    assert "marital" not in result["segments"]  # absent columns are skipped
    in_segment = segments["age_band"].to_numpy() == "26-35"
    assert result["segments"]["age_band"]["26-35"]["roc_auc"] == pytest.approx(roc_auc_score(y[in_segment], p[in_segment]))
    ratios = [s["approval_ratio_to_best"] for c in result["segments"].values() for s in c.values() if s["approval_ratio_to_best"] is not None]
    assert result["min_segment_approval_ratio"] == pytest.approx(min(ratios))
    assert "=" in result["worst_segment"]


def test_undefined_figures_are_none_not_nan():
    result = evaluate(np.zeros(10, dtype=int), np.full(10, 0.6), None, THRESHOLDS)
    assert result["roc_auc"] is None and result["pr_auc"] is None
    assert result["bad_rate_among_approved"] is None and result["approval_rate"] == 0.0


def test_bad_inputs_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="3 labels, 2 scores"):
        evaluate([0, 1, 0], [0.1, 0.2], None, THRESHOLDS)
    with pytest.raises(ValueError, match="1 of 2 are missing"):
        evaluate([0, 1], [0.1, np.nan], None, THRESHOLDS)
    with pytest.raises(ValueError, match="approve_below <= decline_at_or_above"):
        evaluate([0, 1], [0.1, 0.2], None, (0.6, 0.4))


def _eval(**figures):
    base = {"rows": 1000, "roc_auc": 0.84, "pr_auc": 0.65, "brier": 0.14, "calibration_error": 0.03, "approval_rate": 0.5,
            "review_rate": 0.25, "bad_rate_among_approved": 0.08, "min_segment_approval_ratio": 0.6, "worst_segment": "job=partime"}
    return {**base, **figures}


LIMITS = {"min_roc_auc": 0.75, "max_brier": 0.2, "max_calibration_error": 0.05, "min_segment_approval_ratio": 0.5, "max_auc_drop_vs_champion": 0.02}


def test_a_good_candidate_passes_and_reports_what_was_checked():
    result = gate(_eval(), _eval(roc_auc=0.85), {**LIMITS, "some_future_limit": 1, "max_review_rate": None})
    assert result.passed and result.failures == []
    assert set(result.checked) == set(LIMITS)
    assert result.ignored == ["some_future_limit"]


def test_each_broken_limit_is_a_named_failure():
    result = gate(_eval(roc_auc=0.70, brier=0.25, calibration_error=0.09, min_segment_approval_ratio=0.3), None, LIMITS)
    assert not result.passed
    text = "\n".join(result.failures)
    assert "roc_auc 0.7000 is below min_roc_auc 0.7500" in text
    assert "brier 0.2500 is above max_brier 0.2000" in text
    assert "calibration_error 0.0900 is above max_calibration_error" in text
    assert "job=partime" in text
    assert len(result.failures) == 4


def test_a_candidate_much_worse_than_the_champion_fails_only_when_there_is_one():
    candidate, champion = _eval(roc_auc=0.80), _eval(roc_auc=0.85)
    assert gate(candidate, None, LIMITS).passed
    verdict = gate(candidate, champion, LIMITS)
    assert not verdict.passed and "worse than the champion (0.8500 -> 0.8000)" in verdict.failures[0]
    assert gate(candidate, champion, {}).passed  # missing keys are not checked


def test_a_figure_that_could_not_be_computed_fails_its_check():
    verdict = gate(_eval(bad_rate_among_approved=None), None, {"max_bad_rate_among_approved": 0.1})
    assert not verdict.passed and "could not be computed" in verdict.failures[0]
    with pytest.raises(ValueError, match="min_roc_auc must be a number"):
        gate(_eval(), None, {"min_roc_auc": "high"})


def test_compare_reports_candidate_minus_champion():
    deltas = compare(_eval(roc_auc=0.86, brier=0.13), _eval())
    assert deltas["champion_available"]
    assert deltas["metrics"]["roc_auc"]["delta"] == pytest.approx(0.02)
    assert deltas["metrics"]["brier"]["delta"] == pytest.approx(-0.01)
    alone = compare(_eval(), None)
    assert not alone["champion_available"] and alone["metrics"]["roc_auc"]["delta"] is None
