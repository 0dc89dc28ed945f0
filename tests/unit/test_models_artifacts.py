"""Artifacts: content-addressed skops files, byte-stable, verified before they are deserialized."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest
import skops.io
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from keel.models.artifacts import (
    ArtifactMissing,
    ArtifactTampered,
    ArtifactUntrusted,
    ModelStore,
    canonical_skops_bytes,
    serialize,
    sha256_of,
)
from keel.models.seed_features import seed_feature_frame
from keel.models.training import model_input, train_model


@pytest.fixture(scope="module")
def seed_frame():
    return seed_feature_frame()


@pytest.fixture(scope="module")
def small_model(seed_frame):
    """A fast model: the artifact mechanics do not depend on the classifier."""
    return train_model(seed_frame, {"classifier": "logistic_regression"}, "test-artifacts")


def test_a_saved_model_loads_and_scores_exactly_as_before(tmp_path, small_model, seed_frame):
    store = ModelStore(tmp_path / "models")
    sha256 = store.save(small_model.pipeline, small_model.version)
    path = tmp_path / "models" / f"{sha256}.skops"
    assert path.is_file() and sha256_of(path.read_bytes()) == sha256
    loaded = store.load(small_model.version, sha256)
    rows = model_input(seed_frame.head(200))
    assert np.array_equal(loaded.predict_proba(rows), small_model.pipeline.predict_proba(rows))
    assert loaded.feature_reference_ == small_model.pipeline.feature_reference_
    assert store.save(small_model.pipeline, small_model.version) == sha256  # saving again is a no-op
    assert [p.name for p in (tmp_path / "models").iterdir()] == [path.name]


def test_the_default_gradient_boosting_model_loads_with_the_allow_list(tmp_path, seed_frame):
    # Fewer trees than the default keep the test fast; the types stored are the same.
    trained = train_model(seed_frame.head(1500), {"max_iter": 40}, "test-artifacts")
    store = ModelStore(tmp_path)
    sha256 = store.save(trained.pipeline, trained.version)
    loaded = store.load(trained.version, sha256)
    assert np.array_equal(loaded.predict_proba(trained.holdout)[:, 1], trained.holdout_p_bad)


def test_memory_addresses_and_clock_do_not_reach_the_bytes(seed_frame):
    first = train_model(seed_frame, {"classifier": "logistic_regression"}, "test-artifacts")
    second = train_model(seed_frame, {"classifier": "logistic_regression"}, "test-artifacts")
    raw_first, raw_second = skops.io.dumps(first.pipeline), skops.io.dumps(second.pipeline)
    assert raw_first != raw_second  # skops names arrays by id(): two live models never share them
    assert canonical_skops_bytes(raw_first) == canonical_skops_bytes(raw_second) == serialize(first.pipeline)
    with zipfile.ZipFile(io.BytesIO(serialize(first.pipeline))) as archive:
        infos = archive.infolist()
    assert infos[0].filename == "schema.json"
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_an_altered_artifact_is_refused_before_it_is_read(tmp_path, small_model):
    store = ModelStore(tmp_path)
    sha256 = store.save(small_model.pipeline, small_model.version)
    path = tmp_path / f"{sha256}.skops"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactTampered) as refused:
        store.load(small_model.version, sha256)
    message = str(refused.value)
    assert small_model.version in message and str(path) in message
    assert sha256 in message and sha256_of(bytes(data)) in message


def test_a_missing_artifact_names_version_path_and_hash(tmp_path, small_model):
    expected = "ab" * 32
    with pytest.raises(ArtifactMissing) as missing:
        ModelStore(tmp_path).load(small_model.version, expected)
    message = str(missing.value)
    assert small_model.version in message and str(tmp_path / f"{expected}.skops") in message and expected in message
    assert "found no file" in message


def test_a_hash_that_is_not_a_sha256_cannot_point_outside_the_store(tmp_path):
    with pytest.raises(ValueError, match="64 lower-case hex"):
        ModelStore(tmp_path).load("m-x", "../../etc/passwd")


def test_an_artifact_with_a_type_outside_the_allow_list_is_not_loaded(tmp_path):
    dangerous = Pipeline([("run", FunctionTransformer(func=os.system))])
    store = ModelStore(tmp_path)
    sha256 = store.save(dangerous, "m-dangerous")  # the hash is right: only the types are wrong
    with pytest.raises(ArtifactUntrusted) as refused:
        store.load("m-dangerous", sha256)
    message = str(refused.value)
    assert "m-dangerous" in message and sha256 in message
    assert "system" in message


def test_a_model_loaded_again_in_the_same_process_is_reused_but_still_checked(tmp_path, small_model):
    store = ModelStore(tmp_path)
    sha256 = store.save(small_model.pipeline, small_model.version)
    first = store.load(small_model.version, sha256)
    assert store.load(small_model.version, sha256) is first, "deserialized once per process"
    # Another folder holding the same bytes gives the same model; altered bytes are refused even though cached.
    copy = ModelStore(tmp_path / "copy")
    assert copy.load(small_model.version, copy.save(small_model.pipeline, small_model.version)) is first
    path = tmp_path / f"{sha256}.skops"
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ArtifactTampered):
        store.load(small_model.version, sha256)
