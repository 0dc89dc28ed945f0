"""policies/monitoring.yaml loads into validated thresholds; mistakes fail loudly with the key named."""

from __future__ import annotations

import copy

import pytest
import yaml

from keel.monitoring import ALERT, OK, WARN, Band, MonitoringConfigError, load_monitoring_config, monitoring_config_from_dict
from keel.monitoring.config import MONITORING_POLICY_PATH


def _document() -> dict:
    return yaml.safe_load(MONITORING_POLICY_PATH.read_text())


def test_the_shipped_policy_loads_with_its_hash_and_customary_psi_levels():
    config = load_monitoring_config()
    assert config.feature_drift.psi == Band(0.10, 0.25)
    assert config.dataset_drifted_share == 0.5
    assert config.segments.four_fifths_ratio == 0.8
    assert config.performance.roc_auc_below.higher_is_worse is False
    assert len(config.sha256) == 64
    assert config.to_dict()["feature_drift"]["psi"]["warn"] == 0.10


def test_to_dict_round_trips_and_matches_the_file():
    config = load_monitoring_config()
    assert config.to_dict() == _document()
    again = monitoring_config_from_dict(config.to_dict(), source=config.source)
    assert again.to_dict() == config.to_dict() and again.feature_drift == config.feature_drift


def test_band_levels_in_both_directions():
    psi = Band(0.1, 0.25)
    assert [psi.level(v) for v in (0.05, 0.1, 0.2, 0.25, 3.0, float("nan"), None)] == [OK, WARN, WARN, ALERT, ALERT, OK, OK]
    auc = Band(0.70, 0.65, higher_is_worse=False)
    assert [auc.level(v) for v in (0.8, 0.70, 0.66, 0.65, 0.5)] == [OK, WARN, WARN, ALERT, ALERT]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["feature_drift"].update(psi={"warn": 0.3, "alert": 0.2}), "feature_drift.psi"),
        (lambda d: d["feature_drift"].update(significance=5), "feature_drift.significance"),
        (lambda d: d["feature_drift"].update(psy={"warn": 0.1, "alert": 0.2}), "unknown keys ['psy']"),
        (lambda d: d["segments"].pop("min_rows"), "missing keys ['min_rows']"),
        (lambda d: d["segments"].update(min_rows="fifty"), "segments.min_rows"),
        (lambda d: d["performance"].update(roc_auc_below={"warn": 0.6, "alert": 0.7}), "performance.roc_auc_below"),
        (lambda d: d["volume"].update(ratio_above={"warn": 0.9, "alert": 4.0}), "volume.ratio_above.warn"),
    ],
)
def test_invalid_thresholds_are_refused_naming_the_key(mutate, message):
    document = copy.deepcopy(_document())
    mutate(document)
    with pytest.raises(MonitoringConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        monitoring_config_from_dict(document, source="test.yaml")


def test_a_missing_file_names_the_path(tmp_path):
    with pytest.raises(MonitoringConfigError, match="nowhere.yaml"):
        load_monitoring_config(tmp_path / "nowhere.yaml")
