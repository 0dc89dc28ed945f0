"""Has today's data moved away from what the model was trained on?

Each scoring day is compared with the model version's reference profile
(keel.monitoring.reference_profile): per feature, for the score, for the
dataset as a whole, and for the day's volume.

How a feature's severity is decided (thresholds in policies/monitoring.yaml):
  * numeric: PSI over the reference deciles and the KS statistic are judged
    against their warn/alert bands, but only when the KS test rejects "same
    distribution" at the configured significance. A day holds ~100 rows, and
    a PSI on 100 rows moves by ~0.1 from sampling noise alone; the test keeps
    that noise from paging anyone while real shifts pass it easily.
  * categorical: the same with PSI over categories and the Jensen-Shannon
    distance, gated by a chi-squared test. Categories never seen in training
    count against the day (their reference share is zero).
  * either kind: the change in missing rate is judged on its own, ungated: a
    field an upstream system stops sending is a problem whatever a test says.
A feature is `drifted` when its severity is alert; the dataset is drifted
when the share of drifted features reaches `dataset_drift.drifted_share`.

Missing values are left out of a numeric feature's distribution (the missing
rate tracks them) but are a category of their own for categorical features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from keel.monitoring.config import MonitoringConfig
from keel.monitoring.reference_profile import CATEGORICAL, NUMERIC
from keel.monitoring.severity import ALERT, OK, Band, judge, worst
from keel.monitoring.statistics import (
    bin_shares,
    category_counts,
    missing_rate,
    numeric_values,
    population_stability_index,
    rows_for_distribution_tests,
)

FEATURE_DRIFT_COLUMNS: tuple[str, ...] = (
    "feature",
    "kind",
    "n_reference",
    "n_current",
    "psi",
    "ks_statistic",
    "ks_pvalue",
    "wasserstein",
    "chi2_pvalue",
    "js_distance",
    "unseen_share",
    "null_rate_ref",
    "null_rate_cur",
    "severity",
    "drifted",
    "reasons",
)


def columns_for_drift(profile: dict | None, available: list[str]) -> list[str]:
    """The `available` columns a day's drift reads: the key and the profiled features, in table order.

    A large day's other columns (provenance hashes, file names) are most of
    its bytes; a profiled feature the table lacks is left for feature_drift
    to report.
    """
    profiled = set() if profile is None else {*profile["numeric"], *profile["categorical"]}
    return [c for c in available if c == "application_id" or c in profiled]


def feature_drift(profile: dict, current: pd.DataFrame, config: MonitoringConfig) -> pd.DataFrame:
    """One row per profiled feature comparing today's rows with the reference (columns: FEATURE_DRIFT_COLUMNS).

    `reasons` names each threshold crossed ("psi 0.41 >= alert 0.25"), so an
    alert explains itself in the UI without opening the report.
    """
    expected = [*profile["numeric"], *profile["categorical"]]
    missing = [name for name in expected if name not in current.columns]
    if missing:
        raise ValueError(f"feature drift: today's frame lacks the profiled features {missing}")
    rows = [_numeric_row(name, ref, current[name], config) for name, ref in profile["numeric"].items()]
    rows += [_categorical_row(name, ref, current[name], config) for name, ref in profile["categorical"].items()]
    table = pd.DataFrame(rows, columns=list(FEATURE_DRIFT_COLUMNS))
    table["drifted"] = table["drifted"].astype(bool)
    return table


def dataset_drift(feature_table: pd.DataFrame, config: MonitoringConfig) -> tuple[float, bool]:
    """(share of features drifted, whether that share reaches the configured dataset-drift share)."""
    if feature_table.empty:
        return 0.0, False
    share = float(feature_table["drifted"].astype(bool).mean())
    return share, share >= config.dataset_drifted_share


def score_drift(profile: dict, scores: pd.Series, config: MonitoringConfig) -> dict:
    """Compare today's p_bad with the scores of the training rows.

    Returns n, psi, ks_statistic, ks_pvalue, wasserstein, mean_ref, mean_cur,
    mean_shift, severity, drifted, reasons, and the per-bin shares on both
    sides (cut_points, reference_shares, current_shares) for charts.
    A score drift with no feature drift points at the model or its inputs'
    encoding; both together point at the population.
    """
    from scipy.stats import ks_2samp, wasserstein_distance  # scipy.stats costs ~1 s to import; only on use

    reference = profile["score"]
    thresholds = config.score_drift
    values = numeric_values(scores)
    result: dict = {
        "n": int(len(values)),
        "psi": None, "ks_statistic": None, "ks_pvalue": None, "wasserstein": None,
        "mean_ref": reference["mean"], "mean_cur": None, "mean_shift": None,
        "cut_points": reference["cut_points"], "reference_shares": reference["shares"], "current_shares": None,
    }
    reasons: list[str] = []
    severity = OK
    if len(values) and reference["n"]:
        current_shares = bin_shares(values, reference["cut_points"])
        tested = rows_for_distribution_tests(values)
        ks = ks_2samp(reference["sample"], tested)
        mean_cur = float(values.mean())
        result.update(
            psi=population_stability_index(reference["shares"], current_shares, config.feature_drift.psi_epsilon),
            ks_statistic=float(ks.statistic),
            ks_pvalue=float(ks.pvalue),
            wasserstein=float(wasserstein_distance(reference["sample"], tested)),
            mean_cur=mean_cur,
            mean_shift=mean_cur - reference["mean"],
            current_shares=[float(s) for s in current_shares],
        )
        if result["ks_pvalue"] < thresholds.significance:
            severity = worst(
                judge("psi", result["psi"], thresholds.psi, reasons),
                judge("ks statistic", result["ks_statistic"], thresholds.ks_statistic, reasons),
                judge("mean shift", abs(result["mean_shift"]), thresholds.mean_shift, reasons),
            )
    result.update(severity=severity, drifted=severity == ALERT, reasons="; ".join(reasons))
    return result


def volume_change(profile: dict, n_rows: int, config: MonitoringConfig) -> dict:
    """Today's row count against the training window's average daily volume.

    Too few rows usually means a source system sent a partial file; too many,
    a duplicate or a changed population. Returns n_rows,
    reference_daily_volume, ratio, severity, reasons.
    """
    reference = float(profile["daily_volume"])
    ratio = n_rows / reference
    reasons: list[str] = []
    severity = worst(
        judge("volume ratio", ratio, config.volume.ratio_below, reasons),
        judge("volume ratio", ratio, config.volume.ratio_above, reasons),
    )
    return {
        "n_rows": int(n_rows),
        "reference_daily_volume": reference,
        "ratio": ratio,
        "severity": severity,
        "reasons": "; ".join(reasons),
    }


def _numeric_row(name: str, reference: dict, column: pd.Series, config: MonitoringConfig) -> dict:
    from scipy.stats import ks_2samp, wasserstein_distance  # scipy.stats costs ~1 s to import; only on use

    thresholds = config.feature_drift
    values = numeric_values(column)
    row = _base_row(name, NUMERIC, reference, column)
    reasons: list[str] = []
    distribution = OK
    if len(values) and reference["n"]:
        tested = rows_for_distribution_tests(values)
        ks = ks_2samp(reference["sample"], tested)
        row.update(
            psi=population_stability_index(
                reference["shares"], bin_shares(values, reference["cut_points"]), thresholds.psi_epsilon
            ),
            ks_statistic=float(ks.statistic),
            ks_pvalue=float(ks.pvalue),
            wasserstein=float(wasserstein_distance(reference["sample"], tested)),
        )
        if row["ks_pvalue"] < thresholds.significance:
            distribution = worst(
                judge("psi", row["psi"], thresholds.psi, reasons),
                judge("ks statistic", row["ks_statistic"], thresholds.ks_statistic, reasons),
            )
    return _finish(row, distribution, thresholds.null_rate_change, reasons)


def _categorical_row(name: str, reference: dict, column: pd.Series, config: MonitoringConfig) -> dict:
    thresholds = config.feature_drift
    row = _base_row(name, CATEGORICAL, reference, column)
    reasons: list[str] = []
    distribution = OK
    current_counts = category_counts(column)
    if current_counts and reference["counts"]:
        categories = sorted(set(reference["counts"]) | set(current_counts))
        ref = np.array([reference["counts"].get(c, 0) for c in categories], dtype="float64")
        cur = np.array([current_counts.get(c, 0) for c in categories], dtype="float64")
        unseen = sum(count for category, count in current_counts.items() if category not in reference["counts"])
        row.update(
            psi=population_stability_index(ref / ref.sum(), cur / cur.sum(), thresholds.psi_epsilon),
            chi2_pvalue=chi2_pvalue(ref, cur),
            js_distance=js_distance(ref, cur),
            unseen_share=unseen / cur.sum(),
        )
        if row["chi2_pvalue"] < thresholds.significance:
            distribution = worst(
                judge("psi", row["psi"], thresholds.psi, reasons),
                judge("js distance", row["js_distance"], thresholds.js_distance, reasons),
            )
    if row["unseen_share"]:
        reasons.append(f"{row['unseen_share']:.0%} of rows in categories unseen in training")
    return _finish(row, distribution, thresholds.null_rate_change, reasons)


def chi2_pvalue(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Chi-squared test of independence between "which day" and "which category".

    Categories empty on both sides are dropped (they would make an expected
    frequency zero); with a single category left there is nothing to test.
    """
    from scipy.stats import chi2_contingency  # scipy.stats costs ~1 s to import; only on use

    table = np.vstack([reference_counts, current_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0
    return float(chi2_contingency(table).pvalue)


def js_distance(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Jensen-Shannon distance in base 2, so 0 is identical and 1 is disjoint."""
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(reference_counts, current_counts, base=2))


def _base_row(name: str, kind: str, reference: dict, column: pd.Series) -> dict:
    return {
        "feature": name,
        "kind": kind,
        "n_reference": reference["n"],
        "n_current": int(len(column)),
        "psi": np.nan,
        "ks_statistic": np.nan,
        "ks_pvalue": np.nan,
        "wasserstein": np.nan,
        "chi2_pvalue": np.nan,
        "js_distance": np.nan,
        "unseen_share": np.nan if kind == NUMERIC else 0.0,
        "null_rate_ref": reference["null_rate"],
        "null_rate_cur": missing_rate(column),
    }


def _finish(row: dict, distribution: str, null_band: Band, reasons: list[str]) -> dict:
    null_change = abs(row["null_rate_cur"] - row["null_rate_ref"])  # NaN (judged ok) on an empty day
    null_level = judge("missing-rate change", null_change, null_band, reasons)
    severity = worst(distribution, null_level)
    row.update(severity=severity, drifted=severity == ALERT, reasons="; ".join(reasons))
    return row
