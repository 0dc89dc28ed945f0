"""The day's monitoring verdict in one small JSON-serializable record.

Dagster attaches it to the monitoring asset as metadata, sensors read it to
decide whether to page anyone, and the rows of past days form the history
the report charts (keel.monitoring.report).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from keel.monitoring.config import MonitoringConfig
from keel.monitoring.drift import dataset_drift
from keel.monitoring.severity import ALERT, WARN, worst


def daily_summary(
    day: dt.date | str,
    feature_table: pd.DataFrame,
    score_stats: dict,
    volume: dict | None,
    config: MonitoringConfig,
) -> dict:
    """day, share_drifted, dataset_drift, the features at alert and warn, score and volume figures, overall severity."""
    share, drifted = dataset_drift(feature_table, config)
    alerts = feature_table.loc[feature_table["severity"] == ALERT, "feature"].tolist()
    warnings = feature_table.loc[feature_table["severity"] == WARN, "feature"].tolist()
    severities = [*feature_table["severity"], score_stats["severity"]]
    if volume is not None:
        severities.append(volume["severity"])
    return {
        "day": str(day),
        "n_features": int(len(feature_table)),
        "share_drifted": share,
        "dataset_drift": drifted,
        "feature_alerts": alerts,
        "feature_warnings": warnings,
        "score_psi": score_stats["psi"],
        "score_mean": score_stats["mean_cur"],
        "score_severity": score_stats["severity"],
        "n_rows": volume["n_rows"] if volume is not None else None,
        "volume_ratio": volume["ratio"] if volume is not None else None,
        "volume_severity": volume["severity"] if volume is not None else None,
        "severity": worst(*severities),
        "config_version": config.version,
        "config_sha256": config.sha256,
    }
