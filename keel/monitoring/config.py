"""The monitoring thresholds, as the business wrote them in policies/monitoring.yaml.

The file is loaded into frozen dataclasses so that a typo or an impossible
value (an alert level below its warn level, a significance of 5) fails when
the file is read, naming the file, the key, what was expected and what was
found, rather than silently never alerting. The file's version and sha256
travel with the config so each monitoring result records which thresholds
judged it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from keel.home import REPO_ROOT
from keel.monitoring.severity import Band

MONITORING_POLICY_PATH = REPO_ROOT / "policies" / "monitoring.yaml"


class MonitoringConfigError(ValueError):
    """policies/monitoring.yaml is missing a key, has an unknown one, or holds an impossible value."""


@dataclass(frozen=True)
class FeatureDriftThresholds:
    significance: float
    psi: Band
    ks_statistic: Band
    js_distance: Band
    null_rate_change: Band
    psi_epsilon: float


@dataclass(frozen=True)
class ScoreDriftThresholds:
    significance: float
    psi: Band
    ks_statistic: Band
    mean_shift: Band


@dataclass(frozen=True)
class VolumeThresholds:
    ratio_below: Band
    ratio_above: Band


@dataclass(frozen=True)
class PerformanceThresholds:
    window_days: int
    min_labelled_rows: int
    roc_auc_below: Band
    brier_above: Band
    calibration_error_above: Band


@dataclass(frozen=True)
class SegmentThresholds:
    window_days: int
    four_fifths_ratio: float
    min_rows: int


@dataclass(frozen=True)
class MonitoringConfig:
    version: str
    feature_drift: FeatureDriftThresholds
    dataset_drifted_share: float
    score_drift: ScoreDriftThresholds
    volume: VolumeThresholds
    performance: PerformanceThresholds
    segments: SegmentThresholds
    source: str = ""
    sha256: str = ""

    def to_dict(self) -> dict:
        """The thresholds in the layout of policies/monitoring.yaml (JSON-serializable; round-trips
        through monitoring_config_from_dict). Record `sha256` alongside to pin the exact file."""
        fd, sd, perf = self.feature_drift, self.score_drift, self.performance
        return {
            "version": self.version,
            "feature_drift": {
                "significance": fd.significance,
                "psi": fd.psi.to_dict(),
                "ks_statistic": fd.ks_statistic.to_dict(),
                "js_distance": fd.js_distance.to_dict(),
                "null_rate_change": fd.null_rate_change.to_dict(),
                "psi_epsilon": fd.psi_epsilon,
            },
            "dataset_drift": {"drifted_share": self.dataset_drifted_share},
            "score_drift": {
                "significance": sd.significance,
                "psi": sd.psi.to_dict(),
                "ks_statistic": sd.ks_statistic.to_dict(),
                "mean_shift": sd.mean_shift.to_dict(),
            },
            "volume": {"ratio_below": self.volume.ratio_below.to_dict(), "ratio_above": self.volume.ratio_above.to_dict()},
            "performance": {
                "window_days": perf.window_days,
                "min_labelled_rows": perf.min_labelled_rows,
                "roc_auc_below": perf.roc_auc_below.to_dict(),
                "brier_above": perf.brier_above.to_dict(),
                "calibration_error_above": perf.calibration_error_above.to_dict(),
            },
            "segments": {
                "window_days": self.segments.window_days,
                "four_fifths_ratio": self.segments.four_fifths_ratio,
                "min_rows": self.segments.min_rows,
            },
        }


def load_monitoring_config(path: Path | str | None = None) -> MonitoringConfig:
    """Read and validate the monitoring thresholds (default: policies/monitoring.yaml)."""
    path = Path(path) if path is not None else MONITORING_POLICY_PATH
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        raise MonitoringConfigError(f"{path}: monitoring policy file not found") from None
    try:
        document = yaml.safe_load(raw_bytes)
    except yaml.YAMLError as exc:
        raise MonitoringConfigError(f"{path}: not valid YAML: {exc}") from None
    config = _Reader(str(path)).config(document)
    return replace(config, sha256=hashlib.sha256(raw_bytes).hexdigest())


def monitoring_config_from_dict(document: dict, source: str = "<dict>") -> MonitoringConfig:
    """Validate thresholds given as a mapping (tests, overrides from run config)."""
    return _Reader(source).config(document)


class _Reader:
    """Walks the YAML document, checking keys and values and naming the offending key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, expected: str, found: Any) -> MonitoringConfigError:
        return MonitoringConfigError(f"{self.source}: {key}: expected {expected}, found {found!r}")

    def section(self, document: Any, key: str, allowed: set[str]) -> dict:
        if not isinstance(document, dict):
            raise self.fail(key or "<top level>", "a mapping", document)
        unknown = sorted(set(document) - allowed)
        missing = sorted(allowed - set(document))
        if unknown:
            raise self.fail(key or "<top level>", f"only the keys {sorted(allowed)}", f"unknown keys {unknown}")
        if missing:
            raise self.fail(key or "<top level>", f"the keys {sorted(allowed)}", f"missing keys {missing}")
        return document

    def number(self, value: Any, key: str, low: float, high: float, *, low_open: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(key, "a number", value)
        too_low = value <= low if low_open else value < low
        if too_low or value > high:
            bracket = "(" if low_open else "["
            raise self.fail(key, f"a number in {bracket}{low}, {high}]", value)
        return float(value)

    def whole(self, value: Any, key: str, low: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(key, f"a whole number of at least {low}", value)
        return value

    def band(self, value: Any, key: str, *, higher_is_worse: bool = True, high: float = float("inf")) -> Band:
        section = self.section(value, key, {"warn", "alert"})
        warn = self.number(section["warn"], f"{key}.warn", 0.0, high)
        alert = self.number(section["alert"], f"{key}.alert", 0.0, high)
        try:
            return Band(warn, alert, higher_is_worse)
        except ValueError as exc:
            raise self.fail(key, "warn before alert in the direction things get worse", f"{exc}") from None

    def config(self, document: Any) -> MonitoringConfig:
        top = self.section(
            document, "", {"version", "feature_drift", "dataset_drift", "score_drift", "volume", "performance", "segments"}
        )
        version = top["version"]
        if not isinstance(version, str) or not version.strip():
            raise self.fail("version", "a non-empty string", version)

        fd = self.section(
            top["feature_drift"],
            "feature_drift",
            {"significance", "psi", "ks_statistic", "js_distance", "null_rate_change", "psi_epsilon"},
        )
        feature_drift = FeatureDriftThresholds(
            significance=self.number(fd["significance"], "feature_drift.significance", 0.0, 1.0, low_open=True),
            psi=self.band(fd["psi"], "feature_drift.psi"),
            ks_statistic=self.band(fd["ks_statistic"], "feature_drift.ks_statistic", high=1.0),
            js_distance=self.band(fd["js_distance"], "feature_drift.js_distance", high=1.0),
            null_rate_change=self.band(fd["null_rate_change"], "feature_drift.null_rate_change", high=1.0),
            psi_epsilon=self.number(fd["psi_epsilon"], "feature_drift.psi_epsilon", 0.0, 0.01, low_open=True),
        )

        dd = self.section(top["dataset_drift"], "dataset_drift", {"drifted_share"})
        drifted_share = self.number(dd["drifted_share"], "dataset_drift.drifted_share", 0.0, 1.0, low_open=True)

        sd = self.section(top["score_drift"], "score_drift", {"significance", "psi", "ks_statistic", "mean_shift"})
        score_drift = ScoreDriftThresholds(
            significance=self.number(sd["significance"], "score_drift.significance", 0.0, 1.0, low_open=True),
            psi=self.band(sd["psi"], "score_drift.psi"),
            ks_statistic=self.band(sd["ks_statistic"], "score_drift.ks_statistic", high=1.0),
            mean_shift=self.band(sd["mean_shift"], "score_drift.mean_shift", high=1.0),
        )

        vol = self.section(top["volume"], "volume", {"ratio_below", "ratio_above"})
        volume = VolumeThresholds(
            ratio_below=self.band(vol["ratio_below"], "volume.ratio_below", higher_is_worse=False, high=1.0),
            ratio_above=self.band(vol["ratio_above"], "volume.ratio_above"),
        )
        if volume.ratio_above.warn <= 1.0:
            raise self.fail("volume.ratio_above.warn", "a ratio above 1", volume.ratio_above.warn)

        perf = self.section(
            top["performance"],
            "performance",
            {"window_days", "min_labelled_rows", "roc_auc_below", "brier_above", "calibration_error_above"},
        )
        performance = PerformanceThresholds(
            window_days=self.whole(perf["window_days"], "performance.window_days", 1),
            min_labelled_rows=self.whole(perf["min_labelled_rows"], "performance.min_labelled_rows", 1),
            roc_auc_below=self.band(perf["roc_auc_below"], "performance.roc_auc_below", higher_is_worse=False, high=1.0),
            brier_above=self.band(perf["brier_above"], "performance.brier_above", high=1.0),
            calibration_error_above=self.band(
                perf["calibration_error_above"], "performance.calibration_error_above", high=1.0
            ),
        )

        seg = self.section(top["segments"], "segments", {"window_days", "four_fifths_ratio", "min_rows"})
        segments = SegmentThresholds(
            window_days=self.whole(seg["window_days"], "segments.window_days", 1),
            four_fifths_ratio=self.number(seg["four_fifths_ratio"], "segments.four_fifths_ratio", 0.0, 1.0, low_open=True),
            min_rows=self.whole(seg["min_rows"], "segments.min_rows", 1),
        )
        return MonitoringConfig(
            version=version,
            feature_drift=feature_drift,
            dataset_drifted_share=drifted_share,
            score_drift=score_drift,
            volume=volume,
            performance=performance,
            segments=segments,
            source=self.source,
        )
