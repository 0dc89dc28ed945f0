"""The features that pushed a queued case's score most, computed when a person looks at the case.

Explaining a case costs one prediction per model feature (keel.models.explain).
Done for every queued case of every day, it was the largest stage of the daily
run (100k applications: 19 s of a 66 s day; at 1M it would have been minutes),
spent on cases nobody may ever open. So the queue stores the case and the model
version that scored it, and the explanation is computed for the cases shown:
`keel review list`, `keel review export` and the queue preview in the UI.

Each case is explained with the model version that scored it (loaded by its
registered sha256), not whichever model is champion today, so a case shown a
week after a promotion still says why *its* score was what it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from keel.columns import APPLICATION_ID

if TYPE_CHECKING:  # skops and scikit-learn load with the first explanation, not at import
    from keel.control_store import ControlStore
    from keel.models.artifacts import ModelStore

MODEL_VERSION = "model_version"
TOP_FEATURES = "top_features"
# Shown when the case's model artifact is missing or fails its hash check.
UNEXPLAINED = "(model {version} unavailable: no explanation)"


def explain_cases(cases: pd.DataFrame, features: pd.DataFrame, store: ControlStore, models: ModelStore, k: int = 3) -> pd.Series:
    """Top-k feature texts per case ("income=45 (low) +0.12 ; ..."), aligned with `cases`' index.

    `cases` needs application_id and model_version; `features` the
    application_features rows of those cases. Cases decided by the fallback
    rules (no model version) get an empty text.
    """
    from keel.models.explain import top_feature_contributions

    texts = pd.Series("", index=cases.index, dtype="object")
    if cases.empty or MODEL_VERSION not in cases.columns:
        return texts
    by_id = features.drop_duplicates(APPLICATION_ID).set_index(APPLICATION_ID)
    for version, group in cases.groupby(MODEL_VERSION, dropna=True, sort=True):
        known = group[group[APPLICATION_ID].isin(by_id.index)]
        if known.empty:
            continue
        record = store.get_model_version(version)
        try:
            if record is None:
                raise LookupError(version)
            pipeline = models.load(version, record["artifact_sha256"])
        except Exception:  # missing or altered artifact: say so instead of failing the listing
            texts.loc[known.index] = UNEXPLAINED.format(version=version)
            continue
        rows = by_id.loc[known[APPLICATION_ID]].reset_index()
        texts.loc[known.index] = [" ; ".join(items) for items in top_feature_contributions(pipeline, rows, k=k)]
    return texts


def features_of(con, cases: pd.DataFrame) -> pd.DataFrame:
    """The application_features rows of `cases` (by application id) from the warehouse connection `con`."""
    wanted = pd.DataFrame({APPLICATION_ID: cases[APPLICATION_ID].astype("object").unique()})
    con.register("explained_cases", wanted)
    try:
        return con.execute(
            "select f.* from marts.application_features f join explained_cases c using (application_id) order by f.application_id"
        ).df()
    finally:
        con.unregister("explained_cases")


def with_explanations(con, cases: pd.DataFrame, store: ControlStore, models: ModelStore) -> pd.DataFrame:
    """`cases` with a top_features column, read from the warehouse `con` and the model registry."""
    explained = cases.copy()
    explained[TOP_FEATURES] = explain_cases(cases, features_of(con, cases), store, models) if len(cases) else pd.Series(dtype="object")
    return explained
