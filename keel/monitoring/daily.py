"""One scoring day's monitoring: from the rows the warehouse holds to the verdicts and the rows to store.

The Dagster monitoring assets read the day's features, scores, decisions and
landed outcomes, call these functions and store what comes back; everything
that decides (which window, which figure, which severity, what a check
reports) is here so that it is unit-tested without Dagster.

Three questions per scoring day D, each against the thresholds of
policies/monitoring.yaml:
  * drift — D's features and scores against the reference profile of the model
    version that scored D (stored with the version when it was trained);
  * performance — the applications of the trailing `performance.window_days`
    days ending on D, with the outcomes landed by D, pooled: outcomes land a
    week after the application, so a day's own cohort is never labelled on
    the day, and a single cohort (~100 rows) is too small to judge anyway.
    Until outcomes land, D's expected bad rate is the mean of its calibrated
    p_bad;
  * segments — approval, review and bad rates per segment over the trailing
    `segments.window_days` days, held to the four-fifths rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from keel.columns import APPLICATION_DATE, REPAYMENT_STATUS, ROUTE_APPROVE, SCORE
from keel.frames import calendar_days, merge_one_to_one, on_days
from keel.monitoring.config import MonitoringConfig
from keel.monitoring.drift import dataset_drift, feature_drift, score_drift, volume_change
from keel.monitoring.performance import assess_performance, cohort_metrics, performance_by_cohort
from keel.monitoring.segments import segment_outcomes
from keel.monitoring.severity import ALERT, OK, WARN, worst
from keel.monitoring.summary import daily_summary


def trailing_window(day: dt.date | str, days: int) -> tuple[dt.date, dt.date]:
    """(first, last) day of the `days`-day window that ends on `day`, both inclusive."""
    last = dt.date.fromisoformat(str(day))
    return last - dt.timedelta(days=days - 1), last


def check_verdict(severity: str) -> tuple[bool, str | None]:
    """How a monitoring severity shows as an asset check: (passed, level of the failure).

    ok passes; warn fails with a warning (someone should look today); alert
    fails with an error (decisions may be wrong; the drift sensor acts on these).
    """
    if severity == OK:
        return True, None
    if severity in (WARN, ALERT):
        return False, severity
    raise ValueError(f"unknown monitoring severity {severity!r}; expected one of ok, warn, alert")


# --- drift -------------------------------------------------------------------------------------


@dataclass
class DayDrift:
    """Drift of one scoring day against the reference profile."""

    feature_table: pd.DataFrame
    score_stats: dict
    volume: dict
    share_drifted: float
    dataset_drifted: bool
    summary: dict

    @property
    def features_at_alert(self) -> list[str]:
        return self.feature_table.loc[self.feature_table["severity"] == ALERT, "feature"].tolist()

    @property
    def features_at_warn(self) -> list[str]:
        return self.feature_table.loc[self.feature_table["severity"] == WARN, "feature"].tolist()

    @property
    def feature_severity(self) -> str:
        return worst(*self.feature_table["severity"])

    @property
    def dataset_severity(self) -> str:
        return ALERT if self.dataset_drifted else OK

    @property
    def psi_max(self) -> float:
        values = self.feature_table["psi"].dropna()
        return float(values.max()) if len(values) else 0.0


def drift_for_day(day: dt.date | str, profile: dict, features: pd.DataFrame, scores: pd.Series, config: MonitoringConfig) -> DayDrift:
    """Feature, score, dataset and volume drift of `day` (its mart rows and p_bad) against `profile`."""
    table = feature_drift(profile, features, config)
    score_stats = score_drift(profile, scores, config)
    volume = volume_change(profile, len(features), config)
    share, drifted = dataset_drift(table, config)
    summary = daily_summary(day, table, score_stats, volume, config)
    return DayDrift(table, score_stats, volume, share, drifted, summary)


def feature_check_description(drift: DayDrift) -> str:
    """One line naming the features past their thresholds and why, for the check's description."""
    rows = drift.feature_table[drift.feature_table["severity"] != OK]
    if rows.empty:
        return f"all {len(drift.feature_table)} features within their drift thresholds"
    parts = [f"{row.feature} ({row.severity}: {row.reasons})" for row in rows.itertuples(index=False)]
    return "; ".join(parts)


def dataset_check_description(drift: DayDrift, config: MonitoringConfig) -> str:
    n_drifted = int(drift.feature_table["drifted"].sum())
    verdict = "drifted" if drift.dataset_drifted else "not drifted"
    return (
        f"dataset {verdict}: {n_drifted} of {len(drift.feature_table)} features at alert "
        f"({drift.share_drifted:.0%}; the dataset counts as drifted from {config.dataset_drifted_share:.0%})"
    )


def score_check_description(score_stats: dict) -> str:
    if score_stats["severity"] == OK:
        if score_stats["psi"] is None:
            return "no scores today: nothing to compare"
        return f"score distribution stable (psi {score_stats['psi']:.3g}, mean p_bad {score_stats['mean_cur']:.3f})"
    return f"score distribution moved: {score_stats['reasons']}"


# --- performance on delayed labels -------------------------------------------------------------


@dataclass
class DayPerformance:
    """The trailing window's cohorts, its pooled judgement, and the day's own expected bad rate."""

    window_start: dt.date
    window_end: dt.date
    cohorts: pd.DataFrame  # one row per application day in the window (PERFORMANCE_COLUMNS), figures only
    window: dict  # the window's labelled rows pooled: the figures, n_labelled, judged, severity, reasons
    today: dict  # the day's own cohort: n, expected_bad_rate, expected_bad_rate_approved

    @property
    def severity(self) -> str:
        return self.window["severity"]


def performance_for_day(day: dt.date | str, scored: pd.DataFrame, config: MonitoringConfig) -> DayPerformance:
    """Judge the model on the outcomes landed by `day` for the applications of the trailing window.

    `scored` holds application_date, p_bad, route and status (good / bad, or
    missing while the outcome has not landed by `day`); rows outside the
    window are ignored.
    """
    start, end = trailing_window(day, config.performance.window_days)
    # Applications the model could not score were decided by the fallback rules: not the model's performance.
    keep = on_days(scored[APPLICATION_DATE], start, end) & scored[SCORE].notna()
    in_window = scored[keep].assign(**{APPLICATION_DATE: calendar_days(scored.loc[keep, APPLICATION_DATE])})
    cohorts = performance_by_cohort(in_window)
    pooled = pd.DataFrame([{APPLICATION_DATE: end, **cohort_metrics(in_window)}]) if len(in_window) else None
    if pooled is None:
        window = {"n": 0, "n_labelled": 0, "judged": False, "severity": OK, "reasons": "no scored applications in the window"}
    else:
        assessed = assess_performance(pooled, config).iloc[0].to_dict()
        assessed.pop(APPLICATION_DATE)
        window = {key: _plain(value) for key, value in assessed.items()}
    own = in_window[in_window[APPLICATION_DATE] == end]
    today = {
        "n": int(len(own)),
        "expected_bad_rate": float(own[SCORE].mean()) if len(own) else None,
        "expected_bad_rate_approved": (
            float(own.loc[own["route"] == ROUTE_APPROVE, SCORE].mean()) if (own["route"] == ROUTE_APPROVE).any() else None
        ),
    }
    return DayPerformance(start, end, cohorts, window, today)


def performance_check_description(performance: DayPerformance) -> str:
    window = performance.window
    span = f"applications {performance.window_start} to {performance.window_end}"
    if not window["judged"]:
        return f"{span}: {window['reasons']}"
    if performance.severity == OK:
        return (
            f"{span}, {window['n_labelled']} outcomes: roc auc {window['roc_auc']:.3f}, brier {window['brier']:.3f}, "
            f"calibration error {window['calibration_error']:.3f} within thresholds"
        )
    return f"{span}, {window['n_labelled']} outcomes: {window['reasons']}"


# --- segments ---------------------------------------------------------------------------------


@dataclass
class DaySegments:
    window_start: dt.date
    window_end: dt.date
    table: pd.DataFrame  # SEGMENT_COLUMNS_OUT

    @property
    def failing(self) -> pd.DataFrame:
        return self.table[self.table["four_fifths_ok"].eq(False).fillna(False).astype(bool)]

    @property
    def severity(self) -> str:
        # The four-fifths rule is a screen for adverse impact, not proof of it: a warning for people to look.
        return WARN if len(self.failing) else OK

    @property
    def min_ratio(self) -> float | None:
        ratios = self.table["approval_ratio_vs_best"].dropna()
        return float(ratios.min()) if len(ratios) else None


def segments_for_day(day: dt.date | str, decisions: pd.DataFrame, config: MonitoringConfig) -> DaySegments:
    """Segment outcomes over the trailing `segments.window_days` days ending on `day`.

    `decisions` holds application_date, route, the segment columns (or age)
    and optionally status; rows outside the window are ignored.
    """
    start, end = trailing_window(day, config.segments.window_days)
    in_window = decisions[on_days(decisions[APPLICATION_DATE], start, end)]
    return DaySegments(start, end, segment_outcomes(in_window, config))


def segments_check_description(segments: DaySegments, config: MonitoringConfig) -> str:
    span = f"applications {segments.window_start} to {segments.window_end}"
    failing = segments.failing
    if failing.empty:
        judged = int(segments.table["four_fifths_ok"].notna().sum())
        return f"{span}: all {judged} segments of at least {config.segments.min_rows} applications meet the four-fifths rule"
    parts = [
        f"{row.segment_column}={row.segment_value} approval ratio {row.approval_ratio_vs_best:.2f}"
        for row in failing.itertuples(index=False)
    ]
    return f"{span}: below {config.segments.four_fifths_ratio:g} of the best segment: " + "; ".join(parts)


# --- the day's record ---------------------------------------------------------------------------


def summary_row(
    day: dt.date | str,
    model_version: str | None,
    drift: DayDrift | None,
    performance: DayPerformance,
    segments: DaySegments,
    report_path: str | None = None,
) -> dict:
    """The day's headline figures in one flat row (monitoring.daily_summary; the report's history).

    Drift figures are None on a day without a reference profile.
    """
    window = performance.window
    drift_figures = DRIFT_SUMMARY_KEYS_WHEN_UNMEASURED
    if drift is not None:
        drift_figures = {
            **{key: value for key, value in drift.summary.items() if key not in ("day", "feature_alerts", "feature_warnings")},
            "feature_alerts": ", ".join(drift.features_at_alert),
            "feature_warnings": ", ".join(drift.features_at_warn),
            "psi_max": drift.psi_max,
            "score_ks_statistic": drift.score_stats["ks_statistic"],
            "score_mean_shift": drift.score_stats["mean_shift"],
        }
    row = {
        "day": dt.date.fromisoformat(str(day)),
        "model_version": model_version,
        **drift_figures,
        "expected_bad_rate": performance.today["expected_bad_rate"],
        "expected_bad_rate_approved": performance.today["expected_bad_rate_approved"],
        "performance_window_start": performance.window_start,
        "performance_n_labelled": window.get("n_labelled", 0),
        "roc_auc": window.get("roc_auc"),
        "brier": window.get("brier"),
        "calibration_error": window.get("calibration_error"),
        "observed_bad_rate": window.get("observed_bad_rate"),
        "bad_rate_approved": window.get("bad_rate_approved"),
        "performance_judged": bool(window["judged"]),
        "performance_severity": performance.severity,
        "segments_failing_four_fifths": int(len(segments.failing)),
        "segments_min_approval_ratio": segments.min_ratio,
        "segments_severity": segments.severity,
        "report_path": report_path,
    }
    row["severity"] = worst(drift.summary["severity"] if drift else OK, performance.severity, segments.severity)
    return row


# The drift columns of a day whose drift could not be measured (no reference profile).
DRIFT_SUMMARY_KEYS_WHEN_UNMEASURED: dict = {
    "n_features": 0, "share_drifted": None, "dataset_drift": None, "score_psi": None, "score_mean": None,
    "score_severity": None, "n_rows": None, "volume_ratio": None, "volume_severity": None, "severity": OK,
    "config_version": None, "config_sha256": None, "feature_alerts": "", "feature_warnings": "", "psi_max": None,
    "score_ks_statistic": None, "score_mean_shift": None,
}


# daily_summary's column types, fixed: a first day without outcomes or drift
# figures must not create a column typed NULL that a later day cannot fill.
SUMMARY_DTYPES: dict[str, str] = {
    **{
        column: "float64"
        for column in (
            "share_drifted", "score_psi", "score_mean", "volume_ratio", "psi_max", "score_ks_statistic",
            "score_mean_shift", "expected_bad_rate", "expected_bad_rate_approved", "roc_auc", "brier",
            "calibration_error", "observed_bad_rate", "bad_rate_approved", "segments_min_approval_ratio",
        )
    },
    **{column: "Int64" for column in ("n_features", "n_rows", "performance_n_labelled", "segments_failing_four_fifths")},
    **{column: "boolean" for column in ("dataset_drift", "performance_judged")},
}


def summary_frame(rows: list[dict]) -> pd.DataFrame:
    """daily_summary rows as a frame with the table's fixed column types."""
    frame = pd.DataFrame(rows)
    return frame.astype({column: dtype for column, dtype in SUMMARY_DTYPES.items() if column in frame.columns})


def _plain(value):
    """numpy scalars and NaN as plain Python (JSON and Dagster metadata take these)."""
    if isinstance(value, (np.floating, float)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def scores_in_row_order(features: pd.DataFrame, scores: pd.DataFrame) -> pd.Series:
    """The p_bad of each row of `features` (missing where the day's scores lack it), in the features' order.

    Both are read in application_id order, and the scores step scores every
    feature row, so the ids usually line up and no join is needed (a join on
    a million text ids took ~0.25 s).
    """
    ids = features["application_id"]
    if len(ids) == len(scores) and ids.reset_index(drop=True).equals(scores["application_id"].reset_index(drop=True)):
        return pd.Series(scores["p_bad"].to_numpy(), index=features.index, name="p_bad")
    return features[["application_id"]].merge(scores, on="application_id", how="left")["p_bad"].set_axis(features.index)


def scored_with_outcomes(scored: pd.DataFrame, outcomes: pd.DataFrame, as_of: dt.date | str) -> pd.DataFrame:
    """Attach to each scored application its repayment status if the outcome landed by `as_of`.

    `outcomes` holds application_id, outcome_date and repayment_status; an
    outcome landing after `as_of` is not known yet, so rerunning a past day
    judges it on what was known then. An application's outcome may land again
    on a later day (the source corrects it: a late payment booked, a default
    reversed); the latest one known by `as_of` counts.
    """
    known = outcomes[on_days(outcomes["outcome_date"], None, dt.date.fromisoformat(str(as_of)))]
    known = latest_outcome_per_application(known)
    known = known[["application_id", "repayment_status"]].rename(columns={"repayment_status": REPAYMENT_STATUS})
    return merge_one_to_one(scored.drop(columns=[REPAYMENT_STATUS], errors="ignore"), known, on="application_id", how="left")


def latest_outcome_per_application(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Each application's latest outcome (by outcome_date) among `outcomes`; an application's earlier ones are dropped.

    One file delivers an application's outcome once (the contract sets
    repeats within a file aside), so outcome_date orders an application's
    outcomes without ties.
    """
    if not outcomes["application_id"].duplicated().any():
        return outcomes  # the usual window: each outcome landed once
    ordered = outcomes.sort_values(["application_id", "outcome_date"], kind="stable")
    return ordered.drop_duplicates("application_id", keep="last").sort_index()


# --- the whole day ------------------------------------------------------------------------------


@dataclass
class DayMonitoring:
    day: dt.date
    model_version: str | None
    drift: DayDrift | None  # None when no model version has a reference profile to compare with
    performance: DayPerformance
    segments: DaySegments
    no_reference_reason: str | None = None

    def summary(self, report_path: str | None = None) -> dict:
        return summary_row(self.day, self.model_version, self.drift, self.performance, self.segments, report_path)


def monitor_day(
    day: dt.date | str,
    *,
    profile: dict | None,
    model_version: str | None,
    features: pd.DataFrame,
    scores: pd.Series,
    decisions: pd.DataFrame,
    outcomes: pd.DataFrame,
    config: MonitoringConfig,
    no_reference_reason: str | None = None,
) -> DayMonitoring:
    """Drift, performance and segments of one scoring day.

    `features` and `scores` are the day's mart rows and p_bad; `decisions`
    the decided applications of the trailing window (application_id,
    application_date, p_bad, route and the segment columns); `outcomes` the
    landed outcomes (application_id, outcome_date, repayment_status), of
    which only those landed by `day` count. Without a `profile` drift is
    not measured and `no_reference_reason` says why.
    """
    day = dt.date.fromisoformat(str(day))
    drift = drift_for_day(day, profile, features, scores, config) if profile is not None else None
    return monitor_day_after_drift(
        day, drift=drift, model_version=model_version, decisions=decisions, outcomes=outcomes, config=config,
        no_reference_reason=no_reference_reason,
    )


def monitor_day_after_drift(
    day: dt.date | str,
    *,
    drift: DayDrift | None,
    model_version: str | None,
    decisions: pd.DataFrame,
    outcomes: pd.DataFrame,
    config: MonitoringConfig,
    no_reference_reason: str | None = None,
) -> DayMonitoring:
    """monitor_day for a day whose drift is already measured (drift_for_day; None without a profile).

    The day's rows and the trailing window's need not be held at once: on a
    large day the two together were the monitoring step's peak memory.
    """
    day = dt.date.fromisoformat(str(day))
    labelled = scored_with_outcomes(decisions, outcomes, day)
    return DayMonitoring(
        day=day,
        model_version=model_version,
        drift=drift,
        performance=performance_for_day(day, labelled, config),
        segments=segments_for_day(day, labelled, config),
        no_reference_reason=no_reference_reason,
    )


def render_day_report(monitoring: DayMonitoring, history: pd.DataFrame | None, config: MonitoringConfig) -> str | None:
    """The day's HTML report (None without drift figures: the report is built around them)."""
    from keel.monitoring.report import render_report  # matplotlib: loaded only when a report is drawn

    if monitoring.drift is None:
        return None
    performance = monitoring.performance
    window = {**performance.window, "window_start": performance.window_start, "window_end": performance.window_end}
    today = pd.DataFrame([monitoring.summary()])
    history = today if history is None or history.empty else pd.concat([history, today], ignore_index=True)
    history = history.assign(day=pd.to_datetime(history["day"]).dt.date.astype(str)).sort_values("day", kind="stable")
    return render_report(
        monitoring.day,
        monitoring.drift.feature_table,
        monitoring.drift.score_stats,
        performance.cohorts,
        monitoring.segments.table,
        history,
        volume=monitoring.drift.volume,
        config=config,
        model_version=monitoring.model_version,
        performance_window=window,
    )
