"""Performance on delayed labels, checked against scikit-learn and by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from keel.monitoring import ALERT, OK, assess_performance, load_monitoring_config, performance_by_cohort, performance_overall
from keel.monitoring.config import monitoring_config_from_dict

CONFIG = load_monitoring_config()


@pytest.fixture
def scored() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 300
    p_bad = rng.uniform(0.02, 0.9, n)
    status = np.where(rng.random(n) < p_bad, "bad", "good").astype(object)
    status[200:240] = None  # the third day's outcomes have only partly landed
    return pd.DataFrame(
        {
            "application_date": np.repeat(pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]).date, 100),
            "p_bad": p_bad,
            "route": np.where(p_bad < 0.3, "approve", np.where(p_bad > 0.7, "decline", "review")),
            "status": pd.array(status, dtype="str"),
        }
    )


def test_cohort_figures_match_sklearn(scored):
    table = performance_by_cohort(scored).set_index("application_date")
    assert len(table) == 3
    for cohort, frame in scored.groupby("application_date"):
        labelled = frame[frame["status"].notna()]
        y = (labelled["status"] == "bad").astype(int)
        row = table.loc[cohort]
        assert row["n"] == 100 and row["n_labelled"] == len(labelled)
        assert row["label_coverage"] == len(labelled) / 100
        assert row["roc_auc"] == pytest.approx(roc_auc_score(y, labelled["p_bad"]))
        assert row["brier"] == pytest.approx(brier_score_loss(y, labelled["p_bad"]))
        assert row["expected_bad_rate"] == pytest.approx(frame["p_bad"].mean())
        approved = labelled[labelled["route"] == "approve"]
        assert row["bad_rate_approved"] == pytest.approx((approved["status"] == "bad").mean())


def test_unlabelled_and_single_class_cohorts_give_missing_figures():
    frame = pd.DataFrame(
        {
            "application_date": ["d1", "d1", "d2", "d2"],
            "p_bad": [0.2, 0.4, 0.1, 0.3],
            "route": ["approve", "review", "approve", "approve"],
            "status": pd.array(["good", "good", None, None], dtype="str"),
        }
    )
    table = performance_by_cohort(frame).set_index("application_date")
    assert np.isnan(table.loc["d1", "roc_auc"])  # one class only
    assert table.loc["d1", "brier"] == pytest.approx((0.2**2 + 0.4**2) / 2)
    assert table.loc["d1", "bad_rate_approved"] == 0.0
    assert table.loc["d2", "n_labelled"] == 0 and np.isnan(table.loc["d2", "brier"])
    assert table.loc["d2", "expected_bad_rate"] == pytest.approx(0.2)
    assert performance_overall(frame)["roc_auc"] is None


def test_weekly_cohorts_pool_days(scored):
    table = performance_by_cohort(scored, period="W")
    assert table["n"].tolist() == [300]  # 2026-01-01..03 fall in the week starting Monday 2025-12-29
    assert str(table["application_date"].iloc[0]) == "2025-12-29"


def test_assessment_judges_only_cohorts_with_enough_labels(scored):
    document = CONFIG.to_dict()
    document["performance"].update(min_labelled_rows=50, roc_auc_below={"warn": 0.99, "alert": 0.98})
    config = monitoring_config_from_dict(document)
    table = assess_performance(performance_by_cohort(scored), config)
    assert table["judged"].tolist() == [True, True, True]
    assert set(table["severity"]) == {ALERT}
    assert "roc auc" in table["reasons"].iloc[0]
    strict = performance_by_cohort(scored, CONFIG)  # 300 labelled rows needed: nothing judged
    assert strict["judged"].tolist() == [False, False, False] and set(strict["severity"]) == {OK}


def test_unknown_status_values_are_refused(scored):
    with pytest.raises(ValueError, match="'defaulted'"):
        performance_by_cohort(scored.assign(status="defaulted"))
