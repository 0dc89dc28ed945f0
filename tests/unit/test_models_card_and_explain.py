"""The model card holds the tables an approver reads; explanations name what moved a score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from keel.columns import MODEL_FEATURES
from keel.models.card import model_card_markdown
from keel.models.evaluation import evaluate, gate
from keel.models.explain import feature_contributions, top_feature_contributions
from keel.models.seed_features import seed_feature_frame
from keel.models.training import model_input, train_model


@pytest.fixture(scope="module")
def seed_frame():
    return seed_feature_frame()


@pytest.fixture(scope="module")
def trained(seed_frame):
    return train_model(seed_frame, {"max_iter": 60}, "test-card")


@pytest.fixture(scope="module")
def evaluation(trained):
    return evaluate(trained.holdout["is_bad"], trained.holdout_p_bad, trained.holdout, (0.2, 0.5))


def test_the_card_holds_summary_metrics_and_segment_tables(trained, evaluation):
    verdict = gate(evaluation, None, {"min_roc_auc": 0.99})
    card = model_card_markdown(trained.version, trained, evaluation, verdict)
    assert card.startswith(f"# Model card: {trained.version}")
    assert f"| training window | {trained.training_window['start']} to {trained.training_window['end']} |" in card
    assert "| metric | holdout | meaning |" in card
    assert f"| roc_auc | {evaluation['roc_auc']:.4f} |" in card
    for column in ("age_band", "home", "marital", "job"):
        assert f"### {column}" in card
    assert card.count("| segment | rows | bad rate |") == 4
    assert "| `income` | numeric | 8." in card  # share of missing incomes
    assert "FAILED" in card and "is below min_roc_auc 0.9900" in card


def test_the_card_states_the_limits_of_the_data(trained, evaluation):
    card = model_card_markdown(trained.version, trained, evaluation, gate(evaluation, None, {}).to_dict())
    limits = card.split("## Known limits", 1)[1]
    assert f"{trained.training_rows} applications fitted" in limits
    assert "standard error" in limits
    assert "modeldata" in limits and "1990s" in limits
    assert "home=ignore" in limits  # a segment with few rows
    assert "income 8." in limits
    assert "Passed the policy's model gate" in card
    assert "modeldata" not in model_card_markdown(trained.version, trained, evaluation, {"passed": True}, data_source_note=None)


def test_explanations_are_short_texts_ordered_by_size_and_deterministic(trained, seed_frame):
    rows = seed_frame.iloc[:40]
    explained = top_feature_contributions(trained.pipeline, rows, k=3)
    assert len(explained) == len(rows)
    assert all(1 <= len(texts) <= 3 for texts in explained)
    assert explained == top_feature_contributions(trained.pipeline, rows.iloc[::-1], k=3)[::-1]
    changes = feature_contributions(trained.pipeline, rows)
    first = changes.iloc[0].abs().sort_values(ascending=False, kind="stable")
    assert [text.split("=")[0] for text in explained[0]] == list(first.index[: len(explained[0])])
    assert explained[0][0].endswith(f"{changes.iloc[0][first.index[0]]:+.2f}")


def test_a_change_is_the_score_minus_the_score_with_that_feature_made_typical(trained, seed_frame):
    row = seed_frame.iloc[[2]]  # has past records
    changes = feature_contributions(trained.pipeline, row)
    typical = model_input(row).assign(has_records=trained.pipeline.feature_reference_["has_records"])
    expected = trained.pipeline.predict_proba(model_input(row))[:, 1] - trained.pipeline.predict_proba(typical)[:, 1]
    assert changes["has_records"].iloc[0] == pytest.approx(expected[0])
    assert changes["has_records"].iloc[0] > 0  # past payment records raise the risk
    assert any(text.startswith("has_records=1 +") for text in top_feature_contributions(trained.pipeline, row)[0])


def test_a_typical_applicant_has_nothing_to_explain(trained):
    reference = trained.pipeline.feature_reference_
    typical = pd.DataFrame([{name: reference[name] for name in MODEL_FEATURES}])
    assert top_feature_contributions(trained.pipeline, typical) == [[]]
    missing_income = typical.assign(income=np.nan)
    assert top_feature_contributions(trained.pipeline, missing_income, k=1)[0][0].startswith("income=missing")
    assert top_feature_contributions(trained.pipeline, typical.iloc[:0]) == []
