"""Monitoring: drift against the champion's training profile, performance on delayed labels, segments.

One step per scoring day computes the four monitoring assets together (they
read the same rows, and a step costs more than the statistics), writes their
tables to the warehouse's `monitoring` schema and the day's HTML report to
KEEL_HOME/reports/monitoring/, and judges them with asset checks whose
severities come from policies/monitoring.yaml: a warn level fails the check
with WARN, an alert level with ERROR. The drift sensor reads those results
from the event log (sensors/drift.py).
"""


import datetime as dt
from typing import TYPE_CHECKING

import dagster as dg

from assets.constants import (
    CHECK_DATASET_DRIFT,
    CHECK_FEATURE_DRIFT,
    CHECK_FOUR_FIFTHS,
    CHECK_PERFORMANCE,
    CHECK_SCORE_DRIFT,
    CHECK_VOLUME,
    DAILY_PARTITIONS,
    GROUP_MONITORING,
    OWNER_RISK,
    WAREHOUSE_POOL,
)
from keel.alerts import SCORING_DAY_METADATA
from keel.landing_zone import write_atomically
from keel.scoring import CHAMPION
from keel.tables import markdown_table
from resources.control_store import ControlStoreResource
from resources.keel_home import KeelHomeResource
from resources.warehouse import WarehouseResource

if TYPE_CHECKING:
    import pandas as pd

    from keel.monitoring.daily import DayMonitoring

MONITORING_SCHEMA = "monitoring"
CODE_VERSION = "1"
HISTORY_DAYS = 30

DAY_WHERE = " where application_date = cast(? as date) order by application_id"
SCORES_SQL = "select application_id, p_bad, model_version from decisioning.scores where application_date = cast(? as date) order by application_id"
DECISIONS_SQL = """
select d.application_id, d.application_date, d.p_bad, d.route, f.age_band, f.home, f.marital, f.job
from decisioning.decisions d join marts.application_features f using (application_id)
where d.application_date between cast(? as date) and cast(? as date)
order by d.application_id
"""
OUTCOMES_SQL = """
select o.application_id, o.outcome_date, o.repayment_status
from staging.stg_outcomes o join decisioning.decisions d using (application_id)
where d.application_date between cast(? as date) and cast(? as date) and o.outcome_date <= cast(? as date)
"""
HISTORY_SQL = f"""
select * from {MONITORING_SCHEMA}.daily_summary
where day < cast(? as date) order by day desc limit {HISTORY_DAYS}
"""

_SEVERITY = {"warn": dg.AssetCheckSeverity.WARN, "alert": dg.AssetCheckSeverity.ERROR}


def _spec(name: str, description: str, deps: list[str], kinds: set[str]) -> dg.AssetSpec:
    return dg.AssetSpec(
        name,
        description=description,
        deps=deps,
        group_name=GROUP_MONITORING,
        owners=[OWNER_RISK],
        kinds=kinds,
        code_version=CODE_VERSION,
        partitions_def=DAILY_PARTITIONS,
    )


SPECS = [
    _spec(
        "feature_drift",
        "How far the day's applications have moved from the data the champion model learned from: per "
        "feature, the population stability index, Kolmogorov-Smirnov and Wasserstein distances (numbers), "
        "chi-squared and Jensen-Shannon distance (categories), categories never seen in training, the change "
        "in missing values; the share of drifted features (dataset drift) and the day's volume.",
        ["application_features", "scores"],
        {"python", "scipy", "duckdb"},
    ),
    _spec(
        "score_drift",
        "Whether the model's predicted probabilities of bad repayment for the day are distributed as they "
        "were on the training data: a shift with no feature drift points at the model or its inputs, a "
        "shift with feature drift at a changing population.",
        ["scores"],
        {"python", "scipy", "duckdb"},
    ),
    _spec(
        "model_performance",
        "How well the model predicts repayment on the outcomes that have landed (a week after the "
        "application): ROC AUC, Brier score, calibration and the bad rate among approved applications, per "
        "application-date cohort and pooled over the trailing window; until outcomes land, the expected bad "
        "rate from the calibrated scores.",
        ["decisions", "stg_outcomes"],
        {"python", "scikitlearn", "duckdb"},
    ),
    _spec(
        "segment_outcomes",
        "Approval, review and bad rates by age band, housing, marital status and job over the trailing "
        "window, and each segment's approval rate against the best-treated segment of the same attribute "
        "(the four-fifths rule, a screen for adverse impact).",
        ["decisions", "application_features", "stg_outcomes"],
        {"python", "duckdb"},
    ),
]

def _check_spec(name: str, asset: str, description: str) -> dg.AssetCheckSpec:
    # Not partitioned (partitioned checks are a preview feature): each result names its day in metadata.
    return dg.AssetCheckSpec(name, asset=asset, description=description)


CHECK_SPECS = [
    _check_spec(
        CHECK_FEATURE_DRIFT,
        asset="feature_drift",
        description="Every feature's drift from the training data stays below its warn (WARN) and alert (ERROR) "
        "thresholds, once a two-sample test confirms the shift is not sampling noise.",
    ),
    _check_spec(
        CHECK_DATASET_DRIFT,
        asset="feature_drift",
        description="Fewer than the configured share of features (0.5 by default) are drifted at alert level (ERROR otherwise).",
    ),
    _check_spec(
        CHECK_VOLUME,
        asset="feature_drift",
        description="The day's number of applications is within the configured ratio of the training window's daily "
        "average (too few usually means a partial file, too many a duplicate or a changed population).",
    ),
    _check_spec(
        CHECK_SCORE_DRIFT,
        asset="score_drift",
        description="The distribution of predicted p_bad stays close to the training scores: PSI, KS statistic "
        "and mean shift below their warn (WARN) and alert (ERROR) levels.",
    ),
    _check_spec(
        CHECK_PERFORMANCE,
        asset="model_performance",
        description="On the outcomes landed for the trailing window, ROC AUC, Brier score and calibration error stay "
        "within their warn (WARN) and alert (ERROR) levels; windows with too few outcomes are not judged.",
    ),
    _check_spec(
        CHECK_FOUR_FIFTHS,
        asset="segment_outcomes",
        description="Every segment of at least the configured size is approved at no less than four fifths of the rate "
        "of the best-treated segment of the same attribute (WARN otherwise: a screen for people to review).",
    ),
]


def _check(
    day: dt.date, asset: str, name: str, severity: str, description: str, metadata: dict | None = None, names_its_window: bool = False
) -> dg.AssetCheckResult:
    """A monitoring check's result for `day`; a description that does not name its window of days names the day.

    A check's history in the UI lists its results by the time they ran, not by day.
    """
    from keel.monitoring.daily import check_verdict

    passed, level = check_verdict(severity)
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=name,
        passed=passed,
        severity=_SEVERITY[level] if level else dg.AssetCheckSeverity.WARN,
        description=description if names_its_window else f"{day.isoformat()}: {description}",
        # The drift sensor reads the day from here (SCORING_DAY_METADATA in keel.alerts).
        metadata={SCORING_DAY_METADATA: day.isoformat(), **(metadata or {})},
    )


def _floats(figures: dict) -> dict:
    """Numeric metadata (plotted by day in the UI); figures that cannot be computed yet are left out."""
    return {key: dg.MetadataValue.float(float(value)) for key, value in figures.items() if value is not None and value == value}


def _reference(control_store: ControlStoreResource, scores: "pd.DataFrame") -> tuple[str | None, dict | None, str | None]:
    """(model version, its reference profile, why there is none): the version that scored the day, else the champion."""
    store = control_store.open()
    versions = scores["model_version"].dropna().unique()
    version = str(versions[0]) if len(versions) else store.current_alias(CHAMPION)
    if version is None:
        return None, None, "no model has scored applications or holds the champion alias: drift is not measured"
    record = store.get_model_version(version) or {}
    profile = (record.get("profiles") or {}).get("reference_profile")
    if profile is None:
        return version, None, f"model {version} has no reference profile in the control store: drift is not measured"
    return version, profile, None


def _drift_tables(monitoring: "DayMonitoring") -> "pd.DataFrame":
    table = monitoring.drift.feature_table.copy()
    table.insert(0, "day", monitoring.day)
    table.insert(1, "model_version", monitoring.model_version)
    return table


def _write_report(keel_home: KeelHomeResource, monitoring: "DayMonitoring", history: "pd.DataFrame", config) -> str | None:
    from keel.monitoring.daily import render_day_report

    html = render_day_report(monitoring, history, config)
    if html is None:
        return None
    # The partition key is a validated date, so it is safe in a file name.
    path = keel_home.home.reports / "monitoring" / f"monitoring_{monitoring.day.isoformat()}.html"
    return str(write_atomically(path, html.encode("utf-8")))


@dg.multi_asset(
    name="daily_monitoring",
    specs=SPECS,
    check_specs=CHECK_SPECS,
    partitions_def=DAILY_PARTITIONS,
    pool=WAREHOUSE_POOL,
    can_subset=False,
)
def daily_monitoring(
    context: dg.AssetExecutionContext,
    keel_home: KeelHomeResource,
    warehouse: WarehouseResource,
    control_store: ControlStoreResource,
):
    import pandas as pd

    from keel import warehouse as wh
    from keel.decisioning import FEATURES_MART
    from keel.monitoring import load_monitoring_config
    from keel.monitoring.daily import drift_for_day, monitor_day_after_drift, scores_in_row_order
    from keel.monitoring.drift import columns_for_drift

    day = dt.date.fromisoformat(context.partition_key)
    config = load_monitoring_config()
    window_start = (day - dt.timedelta(days=max(config.performance.window_days, config.segments.window_days) - 1)).isoformat()
    # The day's rows are measured for drift and let go before the trailing
    # window's are read (each read on a connection closed after it, which
    # frees DuckDB's buffers): held together they were the step's peak memory
    # on a large day.
    with warehouse.connect() as con:
        scores = wh.query_frame(con, SCORES_SQL, [day.isoformat()])
        model_version, profile, no_reference = _reference(control_store, scores)
        columns = columns_for_drift(profile, wh.table_columns(con, *FEATURES_MART))
        features = wh.query_frame(con, wh.select_columns_sql(*FEATURES_MART, columns) + DAY_WHERE, [day.isoformat()])
    drift = drift_for_day(day, profile, features, scores_in_row_order(features, scores), config) if profile is not None else None
    del features, scores
    with warehouse.connect() as con:
        decisions = wh.query_frame(con, DECISIONS_SQL, [window_start, day.isoformat()])
        outcomes = (
            con.execute(OUTCOMES_SQL, [window_start, day.isoformat(), day.isoformat()]).df()
            if wh.table_exists(con, "staging", "stg_outcomes")  # a view; information_schema lists views too
            else pd.DataFrame(columns=["application_id", "outcome_date", "repayment_status"])
        )
        history = (
            con.execute(HISTORY_SQL, [day.isoformat()]).df().iloc[::-1].reset_index(drop=True)
            if wh.table_exists(con, MONITORING_SCHEMA, "daily_summary")
            else pd.DataFrame()
        )
    monitoring = monitor_day_after_drift(
        day,
        drift=drift,
        model_version=model_version,
        decisions=decisions,
        outcomes=outcomes,
        config=config,
        no_reference_reason=no_reference,
    )
    del decisions, outcomes
    report = _write_report(keel_home, monitoring, history, config)
    summary = monitoring.summary(report)
    _store(warehouse, monitoring, summary, day)

    report_link = {"report": dg.MetadataValue.path(report)} if report else {}
    yield from _drift_results(monitoring, config, report_link, no_reference)
    yield from _performance_results(monitoring, report_link)
    yield from _segment_results(monitoring, config, report_link)
    context.log.info(f"monitoring {day}: severity {summary['severity']}; report {report or 'not drawn (no drift figures)'}")


def _store(warehouse: WarehouseResource, monitoring: "DayMonitoring", summary: dict, day: dt.date) -> None:
    from keel import warehouse as wh
    from keel.monitoring.daily import summary_frame

    performance = monitoring.performance.cohorts.assign(as_of_date=day)
    segments = monitoring.segments.table.assign(
        as_of_date=day, four_fifths_ok=monitoring.segments.table["four_fifths_ok"].astype("object")
    )
    with warehouse.connect() as con:
        if monitoring.drift is not None:
            wh.replace_rows(con, MONITORING_SCHEMA, "feature_drift", _drift_tables(monitoring), "day", [day.isoformat()])
        wh.replace_rows(con, MONITORING_SCHEMA, "performance_by_cohort", performance, "as_of_date", [day.isoformat()])
        wh.replace_rows(con, MONITORING_SCHEMA, "segment_outcomes", segments, "as_of_date", [day.isoformat()])
        wh.replace_rows(con, MONITORING_SCHEMA, "daily_summary", summary_frame([summary]), "day", [day.isoformat()])


def _drift_results(monitoring: "DayMonitoring", config, report_link: dict, no_reference: str | None):
    from keel.monitoring.daily import dataset_check_description, feature_check_description, score_check_description
    from keel.monitoring.severity import severity_rank

    if monitoring.drift is None:
        for asset in ("feature_drift", "score_drift"):
            yield dg.MaterializeResult(asset_key=asset, metadata={"model_version": monitoring.model_version or "none", "not_measured": no_reference})
        for asset, name in (("feature_drift", CHECK_FEATURE_DRIFT), ("feature_drift", CHECK_DATASET_DRIFT), ("feature_drift", CHECK_VOLUME), ("score_drift", CHECK_SCORE_DRIFT)):
            yield _check(monitoring.day, asset, name, "warn", no_reference)
        return
    drift = monitoring.drift
    table = drift.feature_table.assign(_rank=drift.feature_table["severity"].map(severity_rank))
    shown = table.sort_values(["_rank", "psi"], ascending=[False, False])[
        ["feature", "severity", "psi", "ks_statistic", "wasserstein", "js_distance", "unseen_share", "null_rate_ref", "null_rate_cur", "reasons"]
    ]
    yield dg.MaterializeResult(
        asset_key="feature_drift",
        metadata={
            "dagster/row_count": dg.MetadataValue.int(len(drift.feature_table)),
            "model_version": monitoring.model_version,
            **_floats({"psi_max": drift.psi_max, "drifted_share": drift.share_drifted, "volume_ratio": drift.volume["ratio"]}),
            "features_at_alert": dg.MetadataValue.int(len(drift.features_at_alert)),
            "features_at_warn": dg.MetadataValue.int(len(drift.features_at_warn)),
            "applications": dg.MetadataValue.int(drift.volume["n_rows"]),
            "features": dg.MetadataValue.md(markdown_table(shown)),
            **report_link,
        },
    )
    stats = drift.score_stats
    yield dg.MaterializeResult(
        asset_key="score_drift",
        metadata={
            "model_version": monitoring.model_version,
            **_floats(
                {
                    "score_psi": stats["psi"],
                    "score_ks_statistic": stats["ks_statistic"],
                    "score_wasserstein": stats["wasserstein"],
                    "score_mean": stats["mean_cur"],
                    "score_mean_reference": stats["mean_ref"],
                    "score_mean_shift": stats["mean_shift"],
                }
            ),
            "scored": dg.MetadataValue.int(stats["n"]),
            **report_link,
        },
    )
    alerting = {"features_at_alert": dg.MetadataValue.json(drift.features_at_alert), "model_version": monitoring.model_version, **report_link}
    yield _check(monitoring.day, "feature_drift", CHECK_FEATURE_DRIFT, drift.feature_severity, feature_check_description(drift), alerting)
    yield _check(
        monitoring.day,
        "feature_drift",
        CHECK_DATASET_DRIFT,
        drift.dataset_severity,
        dataset_check_description(drift, config),
        {**alerting, **_floats({"drifted_share": drift.share_drifted})},
    )
    volume = drift.volume
    yield _check(
        monitoring.day,
        "feature_drift",
        CHECK_VOLUME,
        volume["severity"],
        volume["reasons"] or f"{volume['n_rows']} applications, {volume['ratio']:.2f} of the training daily average",
        _floats({"volume_ratio": volume["ratio"]}),
    )
    yield _check(
        monitoring.day,
        "score_drift",
        CHECK_SCORE_DRIFT,
        stats["severity"],
        score_check_description(stats),
        {"features_at_alert": dg.MetadataValue.json(drift.features_at_alert), **_floats({"score_psi": stats["psi"]}), **report_link},
    )


def _performance_results(monitoring: "DayMonitoring", report_link: dict):
    from keel.monitoring.daily import performance_check_description

    performance = monitoring.performance
    window = performance.window
    figures = {
        key: window.get(key)
        for key in ("roc_auc", "brier", "calibration_error", "observed_bad_rate", "bad_rate_approved", "label_coverage")
    }
    yield dg.MaterializeResult(
        asset_key="model_performance",
        metadata={
            **_floats(figures),
            **_floats({f"today_{key}": value for key, value in performance.today.items() if key != "n"}),
            "outcomes_in_window": dg.MetadataValue.int(int(window.get("n_labelled") or 0)),
            "window": f"{performance.window_start} to {performance.window_end}",
            "judged": bool(window["judged"]),
            "cohorts": dg.MetadataValue.md(markdown_table(performance.cohorts)),
            **report_link,
        },
    )
    yield _check(
        monitoring.day,
        "model_performance",
        CHECK_PERFORMANCE,
        performance.severity,
        performance_check_description(performance),
        {**_floats(figures), **report_link},
        names_its_window=True,
    )


def _segment_results(monitoring: "DayMonitoring", config, report_link: dict):
    from keel.monitoring.daily import segments_check_description

    segments = monitoring.segments
    table = segments.table
    yield dg.MaterializeResult(
        asset_key="segment_outcomes",
        metadata={
            "dagster/row_count": dg.MetadataValue.int(len(table)),
            "segments_below_four_fifths": dg.MetadataValue.int(len(segments.failing)),
            **_floats({"min_approval_ratio": segments.min_ratio}),
            "window": f"{segments.window_start} to {segments.window_end}",
            "segments": dg.MetadataValue.md(markdown_table(table)),
            **report_link,
        },
    )
    yield _check(
        monitoring.day,
        "segment_outcomes",
        CHECK_FOUR_FIFTHS,
        segments.severity,
        segments_check_description(segments, config),
        {"segments_below_four_fifths": dg.MetadataValue.int(len(segments.failing)), **report_link},
        names_its_window=True,
    )
