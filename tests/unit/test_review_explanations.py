"""Queued cases are explained when shown, by the model version that scored them."""

from __future__ import annotations

import pandas as pd
import pytest

from keel.control_store import ControlStore
from keel.models.artifacts import ModelStore
from keel.models.explain import top_feature_contributions
from keel.models.seed_features import seed_feature_frame
from keel.models.training import train_model
from keel.review.explanations import UNEXPLAINED, explain_cases


@pytest.fixture(scope="module")
def seed_frame():
    return seed_feature_frame()


@pytest.fixture(scope="module")
def two_models(seed_frame):
    return train_model(seed_frame, {"max_iter": 30}, "test-explain-a"), train_model(seed_frame, {"max_iter": 80, "max_depth": 2}, "test-explain-b")


@pytest.fixture
def registry(tmp_path, two_models):
    store = ControlStore(tmp_path / "control.sqlite")
    models = ModelStore(tmp_path / "models")
    for trained in two_models:
        sha256 = models.save(trained.pipeline, trained.version)
        store.register_model_version(trained.version, sha256, {}, {}, [], {})
    return store, models


def test_each_case_is_explained_by_the_model_version_that_scored_it(seed_frame, two_models, registry):
    store, models = registry
    first, second = two_models
    rows = seed_frame.head(6).reset_index(drop=True)
    cases = pd.DataFrame({"application_id": rows["application_id"], "model_version": [first.version] * 3 + [second.version] * 3})
    texts = explain_cases(cases, rows, store, models)
    expected_first = [" ; ".join(t) for t in top_feature_contributions(first.pipeline, rows.head(3), k=3)]
    expected_second = [" ; ".join(t) for t in top_feature_contributions(second.pipeline, rows.tail(3).reset_index(drop=True), k=3)]
    assert list(texts) == expected_first + expected_second
    assert expected_first != [" ; ".join(t) for t in top_feature_contributions(second.pipeline, rows.head(3), k=3)]


def test_fallback_cases_and_unavailable_models_say_so_instead_of_failing(seed_frame, two_models, registry):
    store, models = registry
    first, second = two_models
    rows = seed_frame.head(3).reset_index(drop=True)
    # Alter the second model's artifact: it no longer matches its registered sha256.
    record = store.get_model_version(second.version)
    models.path_for(record["artifact_sha256"]).write_bytes(b"not the model")
    cases = pd.DataFrame({"application_id": rows["application_id"], "model_version": [None, first.version, second.version]})
    texts = explain_cases(cases, rows, store, models)
    assert texts.iloc[0] == ""
    assert texts.iloc[1]
    assert texts.iloc[2] == UNEXPLAINED.format(version=second.version)
