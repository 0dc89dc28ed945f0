"""Training is deterministic: same inputs, same version, same artifact bytes — in any process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keel.columns import APPLICATION_ID, MODEL_FEATURES
from keel.models.artifacts import serialize, sha256_of
from keel.models.seed_features import seed_feature_frame
from keel.models.training import (
    DEFAULT_PARAMS,
    TrainingDataError,
    build_pipeline,
    holdout_mask,
    model_input,
    train_model,
    training_data_sha256,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CODE_VERSION = "test-train-1"

SUBPROCESS_SCRIPT = """
import json
from keel.models.artifacts import serialize, sha256_of
from keel.models.seed_features import seed_feature_frame
from keel.models.training import train_model
trained = train_model(seed_feature_frame().iloc[::-1], {}, "test-train-1")
print(json.dumps({"version": trained.version, "sha256": sha256_of(serialize(trained.pipeline))}))
"""


@pytest.fixture(scope="module")
def other_process():
    """The same training in a separate process, started first so that it runs alongside this one."""
    env = {**os.environ, "PYTHONHASHSEED": "12345", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", SUBPROCESS_SCRIPT], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def seed_frame():
    return seed_feature_frame()


@pytest.fixture(scope="module")
def trained(other_process, seed_frame):
    return train_model(seed_frame, {}, CODE_VERSION)


@pytest.fixture(scope="module")
def artifact_bytes(trained):
    return serialize(trained.pipeline)


def test_the_model_ranks_bad_payers_well_on_the_holdout(trained, seed_frame):
    assert trained.metrics["roc_auc"] > 0.82
    assert trained.metrics["calibration_error"] < 0.06
    assert trained.version.startswith("m-") and len(trained.version) == 14
    assert trained.training_rows + len(trained.holdout) == len(seed_frame)
    assert 0.15 < len(trained.holdout) / len(seed_frame) < 0.25
    assert trained.training_window == {"start": "2025-11-01", "end": "2025-12-30"}
    assert {"is_bad", "age_band", "home", "marital", "job"} <= set(trained.holdout.columns)


def test_training_twice_gives_the_same_version_and_bytes_whatever_the_row_order(trained, seed_frame, artifact_bytes):
    again = train_model(seed_frame.sample(frac=1.0, random_state=11), {}, CODE_VERSION)
    assert again.version == trained.version
    assert serialize(again.pipeline) == artifact_bytes


def test_a_separate_process_with_other_hash_seed_and_threads_gives_the_same_bytes(trained, artifact_bytes, other_process):
    stdout, stderr = other_process.communicate(timeout=120)
    assert other_process.returncode == 0, stderr
    other = json.loads(stdout.strip().splitlines()[-1])
    assert other == {"version": trained.version, "sha256": sha256_of(artifact_bytes)}


def test_the_version_changes_with_data_params_and_code(trained, seed_frame):
    from keel.models.training import library_versions, model_version, resolve_params

    data_hash = trained.training_data_sha256
    params = resolve_params({})
    libraries = library_versions()
    assert model_version(data_hash, MODEL_FEATURES, params, CODE_VERSION, libraries) == trained.version
    assert model_version(data_hash, MODEL_FEATURES, params, "test-train-2", libraries) != trained.version
    assert model_version(data_hash, MODEL_FEATURES, {**params, "max_depth": 4}, CODE_VERSION, libraries) != trained.version
    assert model_version(data_hash, MODEL_FEATURES, params, CODE_VERSION, {**libraries, "scikit-learn": "0.0"}) != trained.version
    assert model_version(data_hash, MODEL_FEATURES[:-1], params, CODE_VERSION, libraries) != trained.version
    changed = seed_frame.copy()
    changed.loc[0, "income"] = changed.loc[0, "income"] + 1
    assert training_data_sha256(changed) != data_hash


def test_the_data_hash_ignores_dtypes_lineage_columns_and_order_but_not_labels(seed_frame):
    reference = training_data_sha256(seed_frame)
    as_from_duckdb = seed_frame.assign(
        age=seed_frame["age"].astype("Int32"), has_records=seed_frame["has_records"].astype("Int32"), source_file="landing/x.csv"
    )
    assert training_data_sha256(as_from_duckdb.iloc[::-1]) == reference
    relabelled = seed_frame.copy()
    relabelled.loc[5, "is_bad"] = 1 - relabelled.loc[5, "is_bad"]
    assert training_data_sha256(relabelled) != reference


def test_the_holdout_is_a_function_of_the_application_id_alone(seed_frame):
    ids = seed_frame[APPLICATION_ID]
    mask = holdout_mask(ids, 20)
    reversed_mask = holdout_mask(ids.iloc[::-1], 20)[::-1]
    assert np.array_equal(mask, reversed_mask)
    assert holdout_mask(ids.iloc[:10], 20).tolist() == mask[:10].tolist()
    assert holdout_mask(ids, 30).sum() > mask.sum()


def test_training_scores_come_back_in_the_callers_row_order(trained, seed_frame):
    assert len(trained.train_p_bad) == len(seed_frame)
    rows = seed_frame.iloc[[0, 100, 2000]]
    expected = trained.pipeline.predict_proba(model_input(rows))[:, 1]
    assert np.allclose(trained.train_p_bad[[0, 100, 2000]], expected)


def test_the_pipeline_scores_rows_with_missing_and_unseen_values(trained, seed_frame):
    rows = seed_frame.head(3).copy()
    rows["home"] = rows["home"].astype("object")
    rows.loc[rows.index[0], ["income", "installment_to_income", "home"]] = [np.nan, np.nan, None]
    rows.loc[rows.index[1], "job"] = "astronaut"
    scores = trained.pipeline.predict_proba(model_input(rows))[:, 1]
    assert np.isfinite(scores).all() and ((scores > 0) & (scores < 1)).all()


def test_model_input_gives_float_numbers_and_python_text_with_nan_for_missing(trained, seed_frame):
    rows = seed_frame.head(6).copy()
    rows["seniority_years"] = pd.array([1, None, 3, 4, 5, 6], dtype="Int32")
    as_text = rows.assign(home=rows["home"].astype("str"), job=rows["job"].astype("str"), marital=rows["marital"].astype("str"))
    as_text.loc[as_text.index[0], "home"] = None
    as_objects = as_text.assign(**{c: as_text[c].astype("object") for c in ("home", "job", "marital")})
    as_objects.loc[as_objects.index[1], "home"] = None
    as_objects.loc[as_objects.index[2], "job"] = 3  # a code where text is expected: scored as the text "3"

    prepared = model_input(as_objects)
    assert prepared["seniority_years"].dtype == np.float64 and np.isnan(prepared["seniority_years"].iloc[1])
    assert all(prepared[c].dtype == object for c in ("home", "job", "marital"))
    assert np.isnan(prepared["home"].iloc[0]) and np.isnan(prepared["home"].iloc[1])
    assert prepared["job"].iloc[2] == "3" and all(isinstance(v, str) for v in prepared["marital"])
    from_text = model_input(as_text.assign(job=as_text["job"].where(as_text.index != as_text.index[2], "3")))
    from_text.loc[from_text.index[1], "home"] = np.nan
    assert np.array_equal(trained.pipeline.predict_proba(prepared)[:, 1], trained.pipeline.predict_proba(from_text)[:, 1])


def test_bad_parameters_and_frames_fail_with_the_reason(seed_frame):
    with pytest.raises(ValueError, match="unknown training parameter"):
        build_pipeline({"max_dept": 3})
    with pytest.raises(ValueError, match="calibration_ensemble must be true or false; found 'no'"):
        build_pipeline({"calibration_ensemble": "no"})
    with pytest.raises(TrainingDataError, match=r"lacks column\(s\) \['income'\]"):
        train_model(seed_frame.drop(columns=["income"]), {}, CODE_VERSION)
    with pytest.raises(TrainingDataError, match="A000001 appears more than once"):
        train_model(pd.concat([seed_frame.head(100), seed_frame.head(1)]), {}, CODE_VERSION)
    all_good = seed_frame[seed_frame["is_bad"] == 0].head(200)
    with pytest.raises(TrainingDataError, match="needs both good and bad"):
        train_model(all_good, {}, CODE_VERSION)


def test_a_logistic_regression_can_be_chosen_and_the_label_can_come_from_status(seed_frame):
    frame = seed_frame.drop(columns=["is_bad"])
    trained = train_model(frame, {"classifier": "logistic_regression"}, CODE_VERSION)
    assert trained.params["classifier"] == "logistic_regression"
    assert trained.metrics["roc_auc"] > 0.8
    assert set(DEFAULT_PARAMS) == set(trained.params)


def test_scoring_gives_the_boosted_trees_columns_and_the_pipelines_own_numbers(trained, seed_frame, monkeypatch):
    from keel.scoring import predict_bad, score

    rows = model_input(seed_frame)
    expected = trained.pipeline.predict_proba(rows)[:, 1]
    classifier = trained.pipeline.named_steps["classify"]
    own_predict_proba = classifier.predict_proba
    column_major = []

    def recording_layout(prepared):
        column_major.append(prepared.flags.f_contiguous and not prepared.flags.c_contiguous)
        return own_predict_proba(prepared)

    monkeypatch.setattr(classifier, "predict_proba", recording_layout)
    assert np.array_equal(predict_bad(trained.pipeline, rows), expected)
    assert np.array_equal(score(trained.pipeline, seed_frame, chunk_rows=1000), np.round(expected, 10))
    assert column_major == [True] * (1 + -(-len(seed_frame) // 1000))


def test_one_calibrated_model_instead_of_the_ensemble_is_a_training_parameter(trained, seed_frame):
    single = train_model(seed_frame, {"calibration_ensemble": False}, CODE_VERSION)
    assert single.version != trained.version and single.params["calibration_ensemble"] is False
    assert len(single.pipeline.named_steps["classify"].calibrated_classifiers_) == 1
    assert len(trained.pipeline.named_steps["classify"].calibrated_classifiers_) == DEFAULT_PARAMS["calibration_folds"]
    assert abs(single.metrics["roc_auc"] - trained.metrics["roc_auc"]) < 0.02
