"""Monitoring: is the credit model still seeing the data it learned from, and still right?

Plain functions over frames, called by the Dagster monitoring assets:
  * build_reference_profile  — summary of a model version's training data, stored with the version
  * feature_drift / score_drift / dataset_drift / volume_change — one scoring day vs that profile
  * performance_by_cohort    — ROC AUC, Brier, calibration as delayed repayment outcomes land
  * segment_outcomes         — approval rates per segment and the four-fifths rule
  * daily_summary / render_report — the day's verdict as a record and as an HTML page
Thresholds live in policies/monitoring.yaml (load_monitoring_config).
scipy, scikit-learn and matplotlib are imported only when a function needs
them, so importing this package stays cheap for Dagster's code location.
"""

from keel.monitoring.config import MonitoringConfig, MonitoringConfigError, load_monitoring_config, monitoring_config_from_dict
from keel.monitoring.drift import FEATURE_DRIFT_COLUMNS, dataset_drift, feature_drift, score_drift, volume_change
from keel.monitoring.performance import PERFORMANCE_COLUMNS, assess_performance, performance_by_cohort, performance_overall
from keel.monitoring.reference_profile import build_reference_profile
from keel.monitoring.report import render_report
from keel.monitoring.segments import SEGMENT_COLUMNS_OUT, segment_outcomes
from keel.monitoring.severity import ALERT, OK, SEVERITIES, WARN, Band, worst
from keel.monitoring.statistics import expected_calibration_error, population_stability_index
from keel.monitoring.summary import daily_summary

__all__ = [
    "ALERT",
    "FEATURE_DRIFT_COLUMNS",
    "OK",
    "PERFORMANCE_COLUMNS",
    "SEGMENT_COLUMNS_OUT",
    "SEVERITIES",
    "WARN",
    "Band",
    "MonitoringConfig",
    "MonitoringConfigError",
    "assess_performance",
    "build_reference_profile",
    "daily_summary",
    "dataset_drift",
    "expected_calibration_error",
    "feature_drift",
    "load_monitoring_config",
    "monitoring_config_from_dict",
    "performance_by_cohort",
    "performance_overall",
    "population_stability_index",
    "render_report",
    "score_drift",
    "segment_outcomes",
    "volume_change",
    "worst",
]
