"""`keel bench-model`: the calibrated ensemble against one calibrated model, on the same folds."""

from keel.bench.model_variants import METRICS

from tests.integration.helpers import keel_json


def test_both_variants_are_measured_on_the_same_folds_with_their_tree_counts(tmp_path):
    result = keel_json(tmp_path, "bench-model", "--repeats", "1", "--folds", "2", "--predict-rows", "3000")

    ensemble, single = result["variants"]["ensemble"], result["variants"]["single"]
    # Five calibration folds of 200 trees against one model of 200 trees.
    assert (ensemble["trees_per_prediction"], single["trees_per_prediction"]) == (1000, 200)
    for figures in (ensemble, single):
        assert 0.7 < figures["roc_auc_mean"] < 1.0 and 0.0 < figures["brier_mean"] < 0.25
        assert figures["predict_s"] > 0
    for metric in METRICS:
        assert abs(result["ensemble_less_single"][f"{metric}_mean"] - (ensemble[f"{metric}_mean"] - single[f"{metric}_mean"])) < 2e-4
    assert (result["repeats"], result["folds"], result["predict_rows"]) == (1, 2, 3000) and result["seed_rows"] > 4_000
