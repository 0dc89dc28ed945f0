"""What the model's calibrated ensemble costs and what it buys.

The largest stage of a day is the model's predictions. keel's model is a
CalibratedClassifierCV with `ensemble=True` (the training parameter
`calibration_ensemble`): one gradient-boosting model per calibration fold,
five of 200 trees, so every prediction walks 1,000 trees. With
`ensemble=False` scikit-learn fits one model on all the training rows and
calibrates it on cross-validated predictions: a fifth of the trees.
`keel bench-model` measures both on the vendored seed data, so that the
choice between them rests on figures anyone can reproduce: their quality
under repeated cross-validation (the same folds for both, so the differences
are paired) and the time to score a day of `predict_rows` applications.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd

VARIANTS = {"ensemble": True, "single": False}
METRICS = ("roc_auc", "brier", "log_loss")


def _fitted(features: pd.DataFrame, target: np.ndarray, ensemble: bool):
    from threadpoolctl import threadpool_limits

    from keel.models.training import build_pipeline

    pipeline = build_pipeline({"calibration_ensemble": ensemble})
    with threadpool_limits(limits=1):  # as training does: the same trees on any core count
        pipeline.fit(features, target)
    return pipeline


def _trees_per_prediction(pipeline) -> int:
    return sum(calibrated.estimator.n_iter_ for calibrated in pipeline.named_steps["classify"].calibrated_classifiers_)  # a tree per iteration (binary)


def compare_calibration_ensemble(
    repeats: int = 3, folds: int = 5, predict_rows: int = 200_000, progress: Callable[[str], None] = lambda _msg: None
) -> dict:
    """Cross-validated quality of both variants on the seed, their paired differences, and their scoring time."""
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    from keel.models.seed_features import seed_feature_frame
    from keel.models.training import model_input, target_of
    from keel.scoring import score

    frame = seed_feature_frame()
    features, target = model_input(frame).reset_index(drop=True), target_of(frame).to_numpy()
    figures: dict[str, list[tuple[float, ...]]] = {name: [] for name in VARIANTS}
    for repeat in range(repeats):
        for fold, (train, test) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=repeat).split(features, target)):
            progress(f"repeat {repeat + 1}/{repeats}, fold {fold + 1}/{folds}")
            for name, ensemble in VARIANTS.items():
                p_bad = _fitted(features.iloc[train], target[train], ensemble).predict_proba(features.iloc[test])[:, 1]
                figures[name].append((roc_auc_score(target[test], p_bad), brier_score_loss(target[test], p_bad), log_loss(target[test], p_bad)))
    result: dict = {"seed_rows": len(features), "repeats": repeats, "folds": folds, "predict_rows": predict_rows, "variants": {}}
    day = pd.concat([frame] * -(-predict_rows // len(frame)), ignore_index=True).head(predict_rows)
    for name, ensemble in VARIANTS.items():
        values = np.array(figures[name])
        pipeline = _fitted(features, target, ensemble)
        progress(f"scoring {predict_rows:,} rows with the {name} model")
        started = time.perf_counter()
        score(pipeline, day)
        seconds = time.perf_counter() - started
        result["variants"][name] = {
            "ensemble": ensemble,
            "trees_per_prediction": _trees_per_prediction(pipeline),
            **{f"{metric}_mean": round(float(values[:, i].mean()), 4) for i, metric in enumerate(METRICS)},
            **{f"{metric}_std": round(float(values[:, i].std()), 4) for i, metric in enumerate(METRICS)},
            "predict_s": round(seconds, 2),
        }
    difference = np.array(figures["ensemble"]) - np.array(figures["single"])
    result["ensemble_less_single"] = {
        **{f"{metric}_mean": round(float(difference[:, i].mean()), 4) for i, metric in enumerate(METRICS)},
        **{f"{metric}_std": round(float(difference[:, i].std()), 4) for i, metric in enumerate(METRICS)},
    }
    result["single_speedup"] = round(result["variants"]["ensemble"]["predict_s"] / max(result["variants"]["single"]["predict_s"], 1e-9), 1)
    return result
