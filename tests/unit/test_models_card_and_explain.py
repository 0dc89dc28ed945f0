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


def _one_call_per_feature(pipeline, rows):
    # The definition: each feature made typical in a prediction of its own.
    features = model_input(rows).reset_index(drop=True)
    reference = pipeline.feature_reference_
    score = pipeline.predict_proba(features)[:, 1]
    return pd.DataFrame(
        {column: score - pipeline.predict_proba(features.assign(**{column: reference[column]}))[:, 1] for column in MODEL_FEATURES},
        columns=list(MODEL_FEATURES),
    )


@pytest.mark.parametrize("rows_per_call", [200_000, len(MODEL_FEATURES) + 1, 3 * (len(MODEL_FEATURES) + 1)])
def test_scoring_every_what_if_row_in_one_call_gives_each_features_own_change(trained, seed_frame, monkeypatch, rows_per_call):
    import keel.models.explain as explain

    monkeypatch.setattr(explain, "WHAT_IF_ROWS_PER_CALL", rows_per_call)
    rows = seed_frame.iloc[:40]
    calls = []
    real_predict_proba = trained.pipeline.predict_proba
    monkeypatch.setattr(trained.pipeline, "predict_proba", lambda frame: calls.append(len(frame)) or real_predict_proba(frame))
    changes = feature_contributions(trained.pipeline, rows)
    monkeypatch.undo()
    expected = _one_call_per_feature(trained.pipeline, rows)
    # The same numbers to the bit, in the rows' order; the rows' own scores vary, so a misaligned reshape would show.
    pd.testing.assert_frame_equal(changes, expected, check_exact=True)
    cases_per_call = max(1, rows_per_call // (len(MODEL_FEATURES) + 1))
    assert calls == [len(chunk) * (len(MODEL_FEATURES) + 1) for chunk in np.array_split(np.arange(40), range(cases_per_call, 40, cases_per_call))]
