"""How good a credit-risk model is, for the business and for each group of applicants.

A model is judged on held-out applications whose repayment is known:
- ranking (ROC AUC, PR AUC): does it put bad payers above good ones;
- probability quality (Brier score, calibration error): is a 0.30 really a 30%
  chance of bad repayment — the policy's thresholds assume it is;
- the decisions it would drive at the policy's thresholds: how many
  applications are approved automatically, how many go to review, and how
  many of the approved ones turn out bad;
- the same per segment (age band, home, marital status, job), with each
  segment's approval rate as a ratio to the best-treated segment of its
  column — the "four-fifths" style check that risk and compliance ask for.

`gate` turns those figures into a pass/fail verdict against the limits the
policy YAML sets, so a candidate that is worse than required (or worse than
the champion) cannot be promoted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from keel.columns import SEGMENT_COLUMNS

CALIBRATION_BINS = 10
# Segments smaller than this are reported but left out of the approval-ratio
# comparison: a ratio over a handful of applications is noise, not a finding.
DEFAULT_MIN_SEGMENT_ROWS = 30
MISSING_SEGMENT = "missing"

# The headline figures `compare` reports, and which direction is better.
COMPARED_METRICS: tuple[str, ...] = (
    "roc_auc",
    "pr_auc",
    "brier",
    "calibration_error",
    "approval_rate",
    "review_rate",
    "bad_rate_among_approved",
    "min_segment_approval_ratio",
)

# gate threshold key -> (metric in the evaluation, "min" or "max")
ABSOLUTE_GATE_RULES: dict[str, tuple[str, str]] = {
    "min_rows": ("rows", "min"),
    "min_roc_auc": ("roc_auc", "min"),
    "min_pr_auc": ("pr_auc", "min"),
    "max_brier": ("brier", "max"),
    "max_calibration_error": ("calibration_error", "max"),
    "min_segment_approval_ratio": ("min_segment_approval_ratio", "min"),
    "min_approval_rate": ("approval_rate", "min"),
    "max_review_rate": ("review_rate", "max"),
    "max_bad_rate_among_approved": ("bad_rate_among_approved", "max"),
}
# gate threshold key -> (metric, sign): the candidate may be worse than the
# champion by at most the limit; sign +1 means higher is better.
CHAMPION_GATE_RULES: dict[str, tuple[str, int]] = {
    "max_auc_drop_vs_champion": ("roc_auc", +1),
    "max_brier_increase_vs_champion": ("brier", -1),
    "max_calibration_error_increase_vs_champion": ("calibration_error", -1),
}


def _number(value: float | None) -> float | None:
    """A JSON-safe float: NaN and infinities (undefined metrics) become None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def calibration_error(y_true: np.ndarray, p_bad: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Expected calibration error over equal-width probability bins.

    The row-weighted mean gap between the predicted and the observed bad rate
    in each bin; bins are assigned the way sklearn.calibration.calibration_curve
    assigns them, so the two agree at the bin edges.
    """
    y = np.asarray(y_true, dtype="float64")
    p = np.asarray(p_bad, dtype="float64")
    edges = np.linspace(0.0, 1.0, bins + 1)
    bin_of_row = np.searchsorted(edges[1:-1], p, side="right")
    observed = np.bincount(bin_of_row, weights=y, minlength=bins)
    predicted = np.bincount(bin_of_row, weights=p, minlength=bins)
    return float(np.abs(observed - predicted).sum() / len(y))


def _roc_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else None


def _pr_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    return float(average_precision_score(y, p)) if 0 < y.sum() < len(y) else None


def probability_metrics(y_true, p_bad) -> dict:
    """Threshold-free quality of the scores: ranking and calibration."""
    y, p = _validated(y_true, p_bad)
    return {
        "rows": int(len(y)),
        "bad_rate": float(y.mean()),
        "mean_p_bad": float(p.mean()),
        "roc_auc": _roc_auc(y, p),
        "pr_auc": _pr_auc(y, p),
        "brier": float(brier_score_loss(y, p, pos_label=1)),
        "calibration_error": calibration_error(y, p),
    }


def _routing_metrics(y: np.ndarray, p: np.ndarray, approve_below: float, decline_at_or_above: float) -> dict:
    approved = p < approve_below
    declined = p >= decline_at_or_above
    review = ~approved & ~declined
    rows = len(y)
    return {
        "approval_rate": float(approved.sum() / rows),
        "review_rate": float(review.sum() / rows),
        "decline_rate": float(declined.sum() / rows),
        # None, not 0, when nothing is approved: "no approved bad payers" would be misleading.
        "bad_rate_among_approved": float(y[approved].mean()) if approved.any() else None,
    }


def _validated(y_true, p_bad) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype="float64").ravel()
    p = np.asarray(p_bad, dtype="float64").ravel()
    if len(y) != len(p):
        raise ValueError(f"evaluation needs one score per label: {len(y)} labels, {len(p)} scores")
    if len(y) == 0:
        raise ValueError("evaluation needs at least one labelled application, found none")
    if np.isnan(y).any() or not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"labels must be 0 (good) or 1 (bad); found {np.unique(y[~np.isin(y, (0.0, 1.0))])[:5].tolist()}")
    if np.isnan(p).any():
        raise ValueError(f"scores must be probabilities; {int(np.isnan(p).sum())} of {len(p)} are missing")
    if (p < 0).any() or (p > 1).any():
        raise ValueError(f"scores must lie in [0, 1]; found min {p.min():.4f}, max {p.max():.4f}")
    return y.astype("int64"), p


def _segment_labels(values: pd.Series) -> np.ndarray:
    labels = values.astype("object").where(values.notna(), MISSING_SEGMENT)
    return labels.map(str).to_numpy()


def _segments_of_column(
    y: np.ndarray, p: np.ndarray, labels: np.ndarray, approve_below: float, decline_at_or_above: float, min_rows: int
) -> dict:
    report: dict[str, dict] = {}
    for label in sorted(set(labels)):
        in_segment = labels == label
        ys, ps = y[in_segment], p[in_segment]
        report[label] = {
            "rows": int(in_segment.sum()),
            "bad_rate": float(ys.mean()),
            "mean_p_bad": float(ps.mean()),
            "roc_auc": _roc_auc(ys, ps),
            **_routing_metrics(ys, ps, approve_below, decline_at_or_above),
            "in_ratio": bool(in_segment.sum() >= min_rows),
            "approval_ratio_to_best": None,
        }
    eligible = {label: seg for label, seg in report.items() if seg["in_ratio"]}
    best = max((seg["approval_rate"] for seg in eligible.values()), default=0.0)
    if best > 0:
        for seg in eligible.values():
            seg["approval_ratio_to_best"] = seg["approval_rate"] / best
    return report


def evaluate(
    y_true,
    p_bad,
    segments: pd.DataFrame | None,
    thresholds: tuple[float, float],
    min_segment_rows: int = DEFAULT_MIN_SEGMENT_ROWS,
) -> dict:
    """Every figure a model is judged on, overall and per segment, as a JSON-ready dict.

    `segments` holds the segment columns (keel.columns.SEGMENT_COLUMNS) aligned
    row by row with the labels; columns it lacks are skipped. `thresholds` is
    the policy's (approve_below, decline_at_or_above): a score below the first
    is approved automatically, at or above the second declined, and in between
    sent to review. Undefined figures (ROC AUC of a segment with only good
    payers, the bad rate among approved when nothing is approved) are None.
    """
    approve_below, decline_at_or_above = (float(t) for t in thresholds)
    if not 0.0 <= approve_below <= decline_at_or_above <= 1.0:
        raise ValueError(
            f"thresholds must satisfy 0 <= approve_below <= decline_at_or_above <= 1; found {approve_below}, {decline_at_or_above}"
        )
    y, p = _validated(y_true, p_bad)
    result = probability_metrics(y, p)
    result.update(_routing_metrics(y, p, approve_below, decline_at_or_above))

    by_segment: dict[str, dict] = {}
    if segments is not None:
        if len(segments) != len(y):
            raise ValueError(f"segments must have one row per label: {len(y)} labels, {len(segments)} segment rows")
        for column in SEGMENT_COLUMNS:
            if column in segments.columns:
                labels = _segment_labels(segments[column].reset_index(drop=True))
                by_segment[column] = _segments_of_column(y, p, labels, approve_below, decline_at_or_above, min_segment_rows)

    ratios = [
        (seg["approval_ratio_to_best"], f"{column}={label}")
        for column, report in by_segment.items()
        for label, seg in report.items()
        if seg["approval_ratio_to_best"] is not None
    ]
    worst = min(ratios, key=lambda pair: pair[0], default=(None, None))
    result["min_segment_approval_ratio"] = worst[0]
    result["worst_segment"] = worst[1]
    result["settings"] = {
        "approve_below": approve_below,
        "decline_at_or_above": decline_at_or_above,
        "min_segment_rows": int(min_segment_rows),
        "calibration_bins": CALIBRATION_BINS,
    }
    result["segments"] = by_segment
    return result


def compare(candidate_eval: Mapping, champion_eval: Mapping | None) -> dict:
    """Candidate minus champion for each headline figure (None where either side lacks it)."""
    if champion_eval is None:
        return {"champion_available": False, "metrics": {m: {"candidate": candidate_eval.get(m), "champion": None, "delta": None} for m in COMPARED_METRICS}}
    metrics = {}
    for name in COMPARED_METRICS:
        ours, theirs = candidate_eval.get(name), champion_eval.get(name)
        delta = None if ours is None or theirs is None else float(ours) - float(theirs)
        metrics[name] = {"candidate": ours, "champion": theirs, "delta": delta}
    return {"champion_available": True, "metrics": metrics}


@dataclass(frozen=True)
class GateResult:
    """The verdict of the policy's model gate; failures say which limit was broken and by how much."""

    passed: bool
    failures: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"passed": self.passed, "failures": list(self.failures), "checked": list(self.checked), "ignored": list(self.ignored)}


def _limit(key: str, value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"model gate threshold {key} must be a number; found {value!r}") from None


def gate(candidate_eval: Mapping, champion_eval: Mapping | None, gate_thresholds: Mapping) -> GateResult:
    """Check a candidate's evaluation against the policy's limits.

    Keys this module does not know are ignored (and listed in `ignored`);
    keys that are absent or None are not checked. A figure the evaluation
    could not compute (None) fails its check: a gate must not pass because
    nothing could be measured. Limits relative to the champion are checked
    only when there is a champion.
    """
    failures: list[str] = []
    checked: list[str] = []
    ignored = sorted(k for k in gate_thresholds if k not in ABSOLUTE_GATE_RULES and k not in CHAMPION_GATE_RULES)

    for key, (metric, direction) in ABSOLUTE_GATE_RULES.items():
        if gate_thresholds.get(key) is None:
            continue
        limit = _limit(key, gate_thresholds[key])
        checked.append(key)
        found = candidate_eval.get(metric)
        if found is None:
            failures.append(f"{metric} could not be computed on the holdout, so {key} {limit:g} cannot be met")
        elif direction == "min" and found < limit:
            where = f" (worst segment {candidate_eval.get('worst_segment')})" if metric == "min_segment_approval_ratio" else ""
            failures.append(f"{metric} {found:.4f}{where} is below {key} {limit:.4f}")
        elif direction == "max" and found > limit:
            failures.append(f"{metric} {found:.4f} is above {key} {limit:.4f}")

    for key, (metric, higher_is_better) in CHAMPION_GATE_RULES.items():
        if gate_thresholds.get(key) is None or champion_eval is None:
            continue
        limit = _limit(key, gate_thresholds[key])
        ours, theirs = candidate_eval.get(metric), champion_eval.get(metric)
        if theirs is None:
            continue  # the champion's figure is unknown: nothing to compare against
        checked.append(key)
        if ours is None:
            failures.append(f"{metric} could not be computed for the candidate, so {key} cannot be checked")
            continue
        worse_by = (theirs - ours) * higher_is_better
        if worse_by > limit:
            failures.append(f"{metric} is {worse_by:.4f} worse than the champion ({theirs:.4f} -> {ours:.4f}), more than {key} {limit:.4f}")

    return GateResult(passed=not failures, failures=failures, checked=checked, ignored=ignored)
