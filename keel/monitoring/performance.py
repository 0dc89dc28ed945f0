"""How well is the model doing, judged on repayment outcomes as they land?

Outcomes arrive weeks after the decision, so each day's applications (a
cohort) start unlabelled and fill in over time. Until they do, the mean
predicted p_bad of the cohort is the best estimate of its bad rate; once
labels land, the observed figures replace it. Every figure is computed on
the labelled rows of a cohort only, and label_coverage says how much of the
cohort that is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from keel.columns import APPLICATION_DATE, LABEL_BAD, LABEL_GOOD, REPAYMENT_STATUS, ROUTE_APPROVE, SCORE
from keel.monitoring.config import MonitoringConfig
from keel.monitoring.severity import OK, judge, worst
from keel.monitoring.statistics import expected_calibration_error

ROUTE = "route"
PERFORMANCE_COLUMNS: tuple[str, ...] = (
    APPLICATION_DATE,
    "n",
    "n_labelled",
    "label_coverage",
    "roc_auc",
    "brier",
    "calibration_error",
    "observed_bad_rate",
    "expected_bad_rate",
    "bad_rate_approved",
    "expected_bad_rate_approved",
)


def performance_by_cohort(
    scored: pd.DataFrame, config: MonitoringConfig | None = None, period: str | None = None
) -> pd.DataFrame:
    """One row per application_date cohort (columns: PERFORMANCE_COLUMNS), oldest first.

    `scored` holds application_date, p_bad, route and status ("good", "bad",
    or missing while the outcome has not landed). Figures that cannot be
    computed are NaN: roc_auc while a cohort's labels hold only one class,
    everything but n and the expected rates while it has no labels.
    With `config`, adds `judged` (enough labels to judge), `severity` and
    `reasons` per cohort from the performance thresholds.

    A day's cohort (~100 applications in the demo) is too small to judge
    AUC or calibration; `period` ("W" for weeks, "M" for months: a pandas
    period alias) pools the days into longer cohorts, labelled by the
    period's first day.
    """
    _check_columns(scored)
    cohorts = scored[APPLICATION_DATE]
    if period is not None:
        cohorts = pd.to_datetime(cohorts).dt.to_period(period).dt.start_time.dt.date
    rows = [
        {APPLICATION_DATE: cohort, **cohort_metrics(frame)}
        for cohort, frame in scored.groupby(cohorts.rename(APPLICATION_DATE), sort=True)
    ]
    table = pd.DataFrame(rows, columns=list(PERFORMANCE_COLUMNS))
    if config is not None:
        table = assess_performance(table, config)
    return table


def performance_overall(scored: pd.DataFrame) -> dict:
    """The same figures over all rows pooled (daily cohorts are small); missing figures are None."""
    _check_columns(scored)
    return {key: (None if isinstance(value, float) and np.isnan(value) else value) for key, value in cohort_metrics(scored).items()}


def cohort_metrics(frame: pd.DataFrame) -> dict:
    """The performance figures of one group of scored applications."""
    from sklearn.metrics import brier_score_loss, roc_auc_score  # sklearn.metrics costs ~2 s to import

    p_bad = frame[SCORE].to_numpy(dtype="float64")
    approved = (frame[ROUTE] == ROUTE_APPROVE).to_numpy()
    labelled = frame[REPAYMENT_STATUS].notna().to_numpy()
    is_bad = (frame[REPAYMENT_STATUS] == LABEL_BAD).to_numpy()[labelled].astype("int64")
    p_labelled = p_bad[labelled]
    n, n_labelled = len(frame), int(labelled.sum())
    approved_labelled = approved[labelled]
    both_classes = n_labelled > 0 and 0 < is_bad.sum() < n_labelled
    return {
        "n": n,
        "n_labelled": n_labelled,
        "label_coverage": n_labelled / n if n else np.nan,
        "roc_auc": float(roc_auc_score(is_bad, p_labelled)) if both_classes else np.nan,
        "brier": float(brier_score_loss(is_bad, p_labelled, labels=[0, 1])) if n_labelled else np.nan,
        "calibration_error": expected_calibration_error(is_bad, p_labelled) if n_labelled else np.nan,
        "observed_bad_rate": float(is_bad.mean()) if n_labelled else np.nan,
        "expected_bad_rate": float(p_bad.mean()) if n else np.nan,
        "bad_rate_approved": float(is_bad[approved_labelled].mean()) if approved_labelled.any() else np.nan,
        "expected_bad_rate_approved": float(p_bad[approved].mean()) if approved.any() else np.nan,
    }


def assess_performance(performance: pd.DataFrame, config: MonitoringConfig) -> pd.DataFrame:
    """Add judged, severity and reasons to a performance table, per the performance thresholds.

    Cohorts with fewer labelled rows than `min_labelled_rows` are shown but
    not judged (severity ok, reason says why): an AUC over a dozen outcomes
    would page people for noise.
    """
    thresholds = config.performance
    judged, severities, explanations = [], [], []
    for row in performance.itertuples(index=False):
        reasons: list[str] = []
        enough = row.n_labelled >= thresholds.min_labelled_rows
        severity = OK
        if enough:
            severity = worst(
                judge("roc auc", row.roc_auc, thresholds.roc_auc_below, reasons),
                judge("brier", row.brier, thresholds.brier_above, reasons),
                judge("calibration error", row.calibration_error, thresholds.calibration_error_above, reasons),
            )
        else:
            reasons.append(f"{row.n_labelled} labelled rows < {thresholds.min_labelled_rows}: not judged yet")
        judged.append(enough)
        severities.append(severity)
        explanations.append("; ".join(reasons))
    return performance.assign(judged=judged, severity=severities, reasons=explanations)


def _check_columns(scored: pd.DataFrame) -> None:
    missing = [c for c in (APPLICATION_DATE, SCORE, ROUTE, REPAYMENT_STATUS) if c not in scored.columns]
    if missing:
        raise ValueError(f"performance: the scored frame lacks {missing} (has {list(scored.columns)})")
    statuses = set(scored[REPAYMENT_STATUS].dropna().unique())
    unexpected = statuses - {LABEL_GOOD, LABEL_BAD}
    if unexpected:
        raise ValueError(
            f"performance: column {REPAYMENT_STATUS} holds {sorted(map(str, unexpected))}; "
            f"expected {LABEL_GOOD!r}, {LABEL_BAD!r} or missing"
        )
