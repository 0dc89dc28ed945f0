"""Training the credit-risk model: a calibrated probability of bad repayment.

The model is a scikit-learn Pipeline: numeric features imputed with their
training median (plus a was-missing indicator, because a missing income is
itself informative), categorical features imputed as "missing" and one-hot
encoded (categories never seen in training are ignored rather than failing
the day's scoring), then gradient-boosted trees whose output is calibrated
so that a score of 0.3 means about a 30% chance of bad repayment — the
policy's thresholds are written in those terms.

Training is deterministic: rows are put in application_id order, the holdout
is chosen by hashing each application_id (not by row position or a random
draw), and every random state is fixed. The model version is derived from
what went in — the training data's content hash, the feature list, the
parameters, the training code version and the library versions — so the
same inputs always give the same version, and the same artifact bytes.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import version as installed_version

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from keel.columns import (
    APPLICATION_DATE,
    APPLICATION_ID,
    CATEGORICAL_FEATURES,
    LABEL_BAD,
    MODEL_FEATURES,
    NUMERIC_FEATURES,
    REPAYMENT_STATUS,
    SEGMENT_COLUMNS,
)
from keel.models.evaluation import probability_metrics

TARGET = "is_bad"
MISSING_CATEGORY = "missing"
# Salted so the holdout does not coincide with any other hash-based split of application ids.
HOLDOUT_SALT = "keel-holdout-v1"
HASHED_LIBRARIES: tuple[str, ...] = ("scikit-learn", "numpy", "scipy", "skops")
# Attribute of the fitted pipeline holding each feature's typical training value
# (median or most common category); explanations compare rows against it.
FEATURE_REFERENCE_ATTRIBUTE = "feature_reference_"

# Chosen by 5-fold cross-validated ROC AUC on the seed: shallow boosted trees
# (0.848) beat logistic regression (0.841) and deeper or leafier trees.
DEFAULT_PARAMS: dict = {
    "classifier": "hist_gradient_boosting",  # or "logistic_regression"
    "learning_rate": 0.05,
    "max_iter": 200,
    "max_depth": 3,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
    "logistic_c": 1.0,
    "calibration": "sigmoid",  # or "isotonic"
    "calibration_folds": 5,
    # One model per calibration fold, averaged: 0.002 of ROC AUC over one model
    # calibrated on cross-validated predictions, for ~4x the scoring time
    # (`keel bench-model`, docs/BENCHMARKS.md).
    "calibration_ensemble": True,
    "holdout_percent": 20,
    "random_state": 20260101,
}
CLASSIFIERS = ("hist_gradient_boosting", "logistic_regression")
MIN_TRAINING_ROWS = 50


class TrainingDataError(ValueError):
    """The training frame cannot train a model; the message names what is wrong and where."""


def resolve_params(params: Mapping | None) -> dict:
    """The defaults overlaid with `params`; an unknown key is an error, not a silent default."""
    params = dict(params or {})
    unknown = sorted(set(params) - set(DEFAULT_PARAMS))
    if unknown:
        raise ValueError(f"unknown training parameter(s) {unknown}; known: {sorted(DEFAULT_PARAMS)}")
    resolved = {**DEFAULT_PARAMS, **params}
    if resolved["classifier"] not in CLASSIFIERS:
        raise ValueError(f"classifier must be one of {CLASSIFIERS}; found {resolved['classifier']!r}")
    if not isinstance(resolved["calibration_ensemble"], bool):
        raise ValueError(f"calibration_ensemble must be true or false; found {resolved['calibration_ensemble']!r}")
    if not 0 < resolved["holdout_percent"] < 100:
        raise ValueError(f"holdout_percent must be between 0 and 100; found {resolved['holdout_percent']}")
    return dict(sorted(resolved.items()))


def _classifier(params: dict):
    if params["classifier"] == "logistic_regression":
        return LogisticRegression(C=params["logistic_c"], max_iter=5000)
    return HistGradientBoostingClassifier(
        learning_rate=params["learning_rate"],
        max_iter=params["max_iter"],
        max_depth=params["max_depth"],
        min_samples_leaf=params["min_samples_leaf"],
        l2_regularization=params["l2_regularization"],
        # Off explicitly: "auto" switches it on above 10,000 rows, which would
        # change how the model is trained as the history grows.
        early_stopping=False,
        random_state=params["random_state"],
    )


def build_pipeline(params: Mapping | None = None) -> Pipeline:
    """The unfitted model: feature preparation and a calibrated classifier."""
    params = resolve_params(params)
    numeric_steps: list = [("impute", SimpleImputer(strategy="median", add_indicator=True))]
    if params["classifier"] == "logistic_regression":
        numeric_steps.append(("scale", StandardScaler()))  # trees do not need it, a linear model does
    prepare = ColumnTransformer(
        [
            ("numeric", Pipeline(numeric_steps), list(NUMERIC_FEATURES)),
            (
                "categorical",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)),
                        ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                    ]
                ),
                list(CATEGORICAL_FEATURES),
            ),
        ],
        remainder="drop",
        verbose_feature_names_out=True,
    )
    calibrated = CalibratedClassifierCV(
        _classifier(params),
        method=params["calibration"],
        cv=KFold(n_splits=params["calibration_folds"], shuffle=True, random_state=params["random_state"]),
        ensemble=params["calibration_ensemble"],
    )
    return Pipeline([("prepare", prepare), ("classify", calibrated)])


def model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """The model's feature columns in the form the pipeline expects.

    Numeric features as float64 with NaN for missing (nullable integer columns
    from DuckDB arrive as Int32 with <NA>); categorical features as Python
    strings in object columns with NaN for missing — a None would otherwise
    escape the "missing" imputation and be scored as an unseen category.
    Object columns are what the pipeline's imputer and encoder work on: given
    pandas' Arrow-backed text they convert every value first (~0.5 s of a
    million-row day's scoring).
    """
    missing = [c for c in MODEL_FEATURES if c not in frame.columns]
    if missing:
        raise TrainingDataError(f"the frame lacks model feature column(s) {missing}")
    columns = {column: pd.to_numeric(frame[column], errors="raise").to_numpy(dtype="float64", na_value=np.nan) for column in NUMERIC_FEATURES}
    for column in CATEGORICAL_FEATURES:
        values = frame[column]
        if not isinstance(values.dtype, pd.StringDtype):  # numbers as their text, None as missing
            values = values.astype("object").where(values.notna(), np.nan).astype("str")
        columns[column] = values.to_numpy(dtype=object, na_value=np.nan)
    # Series of an explicit dtype: from an object array of text pandas would infer its "str" dtype again.
    return pd.DataFrame({name: pd.Series(values, index=frame.index, dtype=values.dtype) for name, values in columns.items()}, index=frame.index)


def target_of(frame: pd.DataFrame) -> pd.Series:
    """1 for bad repayment, 0 for good: `is_bad` if present, else derived from the status."""
    if TARGET in frame.columns:
        target = frame[TARGET]
        if target.isna().any():
            raise TrainingDataError(f"{int(target.isna().sum())} training row(s) have no {TARGET} label")
        return target.astype("int64")
    for status_column in (REPAYMENT_STATUS, "repayment_status"):
        if status_column in frame.columns:
            status = frame[status_column]
            unknown = status[~status.isin(["good", LABEL_BAD])]
            if len(unknown):
                raise TrainingDataError(
                    f"{status_column} must be good or bad; {len(unknown)} row(s) are not, e.g. "
                    f"{frame.loc[unknown.index[0], APPLICATION_ID]}: {unknown.iloc[0]!r}"
                )
            return (status == LABEL_BAD).astype("int64")
    raise TrainingDataError(f"the training frame needs an {TARGET} column or a {REPAYMENT_STATUS} column")


def holdout_mask(application_ids: pd.Series, holdout_percent: float) -> np.ndarray:
    """True for the applications held out of training: a pure function of each id."""
    cutoff = holdout_percent * 100
    buckets = [
        int.from_bytes(hashlib.sha256(f"{HOLDOUT_SALT}:{app_id}".encode()).digest()[:8], "big") % 10_000
        for app_id in application_ids
    ]
    return np.asarray(buckets) < cutoff


def _iso_dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d")


def training_data_sha256(frame: pd.DataFrame) -> str:
    """The content hash of what a model learns from: ids, dates, features and label.

    Canonical form, independent of row order, column order, dtype (Int32 vs
    float64) and of lineage columns that do not reach the model: rows sorted
    by application_id; per column, its name, then numbers as little-endian
    float64 (one NaN pattern, no negative zero) or text joined by a unit
    separator with NUL for missing.
    """
    ordered = frame.sort_values(APPLICATION_ID, kind="stable").reset_index(drop=True)
    target = target_of(ordered)
    digest = hashlib.sha256()

    def add_text(name: str, values: pd.Series) -> None:
        text = values.astype("object").where(values.notna(), "\x00").map(str)
        digest.update(f"{name}:text:{len(text)}\n".encode())
        digest.update("\x1f".join(text).encode("utf-8"))

    def add_numbers(name: str, values: pd.Series) -> None:
        numbers = pd.to_numeric(values).to_numpy(dtype="float64", na_value=np.nan) + 0.0
        numbers[np.isnan(numbers)] = np.nan
        digest.update(f"{name}:f8:{len(numbers)}\n".encode())
        digest.update(numbers.astype("<f8").tobytes())

    add_text(APPLICATION_ID, ordered[APPLICATION_ID])
    add_text(APPLICATION_DATE, _iso_dates(ordered[APPLICATION_DATE]))
    for column in NUMERIC_FEATURES:
        add_numbers(column, ordered[column])
    for column in CATEGORICAL_FEATURES:
        add_text(column, ordered[column])
    add_numbers(TARGET, target)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """The versions that can change a fitted model or its artifact bytes.

    zlib is among them because artifacts are deflated (keel.models.artifacts).
    """
    versions = {name: installed_version(name) for name in HASHED_LIBRARIES}
    versions["zlib"] = zlib.ZLIB_RUNTIME_VERSION
    return versions


def model_version(data_sha256: str, features: tuple[str, ...], params: Mapping, code_version: str, libraries: Mapping[str, str]) -> str:
    """ "m-" and 12 hex digits of the hash of everything that determines the model."""
    identity = {
        "training_data_sha256": data_sha256,
        "features": list(features),
        "params": dict(params),
        "code_version": code_version,
        "libraries": dict(libraries),
    }
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return "m-" + hashlib.sha256(canonical.encode()).hexdigest()[:12]


def feature_reference(features: pd.DataFrame) -> dict[str, float | str]:
    """Each feature's typical training value: the median, or the most common category (ties: alphabetical)."""
    reference: dict[str, float | str] = {}
    for column in NUMERIC_FEATURES:
        median = features[column].median()
        reference[column] = float(median) if pd.notna(median) else 0.0
    for column in CATEGORICAL_FEATURES:
        counts = features[column].dropna().value_counts()
        if len(counts):
            top = counts[counts == counts.max()].index
            reference[column] = str(sorted(top)[0])
        else:
            reference[column] = MISSING_CATEGORY
    return reference


@dataclass
class TrainedModel:
    """A fitted model and everything needed to register, evaluate and describe it."""

    version: str
    pipeline: Pipeline
    params: dict
    code_version: str
    features: list[str]
    library_versions: dict[str, str]
    training_data_sha256: str
    training_window: dict[str, str]  # {"start": first application_date, "end": last}, ISO dates
    training_rows: int  # rows the model was fitted on
    holdout: pd.DataFrame  # held-out rows: application_id, application_date, features, segments, is_bad
    holdout_p_bad: np.ndarray  # the model's scores for the holdout rows, in holdout order
    train_p_bad: np.ndarray  # the model's scores for every row of the training frame, in its row order
    metrics: dict  # threshold-free quality on the holdout (ROC AUC, PR AUC, Brier, calibration error)
    training_seconds: float = 0.0
    data_notes: dict = field(default_factory=dict)  # facts about the data the model card reports


def _check_training_frame(frame: pd.DataFrame) -> None:
    required = [APPLICATION_ID, APPLICATION_DATE, *MODEL_FEATURES]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise TrainingDataError(f"the training frame lacks column(s) {missing}")
    if len(frame) < MIN_TRAINING_ROWS:
        raise TrainingDataError(f"the training frame has {len(frame)} rows; at least {MIN_TRAINING_ROWS} are needed")
    duplicated = frame[APPLICATION_ID][frame[APPLICATION_ID].duplicated()]
    if len(duplicated):
        raise TrainingDataError(f"application_id must be unique in the training frame; {duplicated.iloc[0]} appears more than once")


def _check_split(target: pd.Series, held_out: np.ndarray, folds: int) -> None:
    for name, part in (("training part", target[~held_out]), ("holdout", target[held_out])):
        bad, good = int(part.sum()), int(len(part) - part.sum())
        if bad == 0 or good == 0:
            raise TrainingDataError(f"the {name} needs both good and bad repayments; it has {good} good and {bad} bad")
    bad_in_training = int(target[~held_out].sum())
    if bad_in_training < folds:
        raise TrainingDataError(f"calibration uses {folds} folds but the training part has only {bad_in_training} bad repayments")


def train_model(training_frame: pd.DataFrame, params: Mapping | None, code_version: str) -> TrainedModel:
    """Fit the model on the non-holdout rows and measure it on the holdout.

    `training_frame` has one row per application with a known outcome:
    application_id, application_date, the model features, and `is_bad` (or
    `status` good/bad); segment columns, if present, are kept on the holdout
    for evaluation. Row order does not matter.
    """
    started = time.perf_counter()
    _check_training_frame(training_frame)
    resolved = resolve_params(params)
    data_sha256 = training_data_sha256(training_frame)
    libraries = library_versions()
    version = model_version(data_sha256, MODEL_FEATURES, resolved, code_version, libraries)

    ordered = training_frame.sort_values(APPLICATION_ID, kind="stable").reset_index(drop=True)
    target = target_of(ordered)
    features = model_input(ordered)
    held_out = holdout_mask(ordered[APPLICATION_ID], resolved["holdout_percent"])
    _check_split(target, held_out, resolved["calibration_folds"])

    pipeline = build_pipeline(resolved)
    # One thread: gradient boosting sums histograms per thread, so the fitted
    # trees (and the artifact bytes) would otherwise depend on the core count.
    with threadpool_limits(limits=1):
        pipeline.fit(features[~held_out].reset_index(drop=True), target[~held_out].reset_index(drop=True))
    setattr(pipeline, FEATURE_REFERENCE_ATTRIBUTE, feature_reference(features[~held_out]))

    keep = [APPLICATION_ID, APPLICATION_DATE, *MODEL_FEATURES, *[c for c in SEGMENT_COLUMNS if c not in MODEL_FEATURES and c in ordered.columns]]
    holdout = ordered.loc[held_out, keep].reset_index(drop=True)
    holdout[TARGET] = target[held_out].to_numpy()
    holdout_p_bad = pipeline.predict_proba(features[held_out])[:, 1]

    # Scores for the caller's rows in the caller's order (the reference for prediction drift).
    all_p_bad = pd.Series(pipeline.predict_proba(features)[:, 1], index=ordered[APPLICATION_ID].to_numpy())
    train_p_bad = all_p_bad.loc[training_frame[APPLICATION_ID].to_numpy()].to_numpy()

    dates = _iso_dates(ordered[APPLICATION_DATE])
    return TrainedModel(
        version=version,
        pipeline=pipeline,
        params=resolved,
        code_version=code_version,
        features=list(MODEL_FEATURES),
        library_versions=libraries,
        training_data_sha256=data_sha256,
        training_window={"start": str(dates.min()), "end": str(dates.max())},
        training_rows=int((~held_out).sum()),
        holdout=holdout,
        holdout_p_bad=holdout_p_bad,
        train_p_bad=train_p_bad,
        metrics=probability_metrics(holdout[TARGET].to_numpy(), holdout_p_bad),
        training_seconds=round(time.perf_counter() - started, 3),
        data_notes={
            "rows": int(len(ordered)),
            "bad_rate": float(target.mean()),
            "missing_share": {c: float(ordered[c].isna().mean()) for c in MODEL_FEATURES},
        },
    )
