"""The day's scoring, routing and review queue, as plain functions over frames.

Assets call these with what they read from the warehouse and store what comes
back; the model, the policy and the training profile are looked up in the
control store so every row records the versions that produced it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from keel.columns import APPLICATION_DATE, APPLICATION_ID, ROUTE_REVIEW, SCORE
from keel.control_store import ControlStore
from keel.home import REPO_ROOT, KeelHome
from keel.policy import Policy, TrainingProfile, decide, load_policy
from keel.scoring import CHAMPION, LoadedModel, ModelUnavailable, load_alias, score

POLICY_PATH = REPO_ROOT / "policies" / "credit_policy.yaml"


def current_policy() -> Policy:
    return load_policy(POLICY_PATH)


@dataclass
class ScoredDay:
    frame: pd.DataFrame
    model_version: str | None
    model_available: bool
    unavailable_reason: str | None = None


def score_day(features: pd.DataFrame, store: ControlStore, home: KeelHome) -> ScoredDay:
    """Score the day's applications with the champion; record why if it cannot."""
    from keel.models.artifacts import ModelStore  # skops and sklearn load with the first score

    base = features[[APPLICATION_ID, APPLICATION_DATE]].copy()
    try:
        model = load_alias(store, ModelStore(home.models), CHAMPION)
    except ModelUnavailable as reason:
        base[SCORE] = np.nan
        base["model_version"] = None
        return ScoredDay(base, None, False, str(reason))
    base[SCORE] = score(model.pipeline, features)
    base["model_version"] = model.version
    return ScoredDay(base, model.version, True)


@dataclass
class DecidedDay:
    frame: pd.DataFrame
    policy_version: str


def training_profile_for(store: ControlStore, model_version: str | None) -> TrainingProfile | None:
    if not model_version:
        return None
    record = store.get_model_version(model_version)
    profiles = (record or {}).get("profiles") or {}
    raw = profiles.get("training_profile")
    return TrainingProfile.from_dict(raw) if raw else None


def decide_day(features: pd.DataFrame, scores: pd.DataFrame, store: ControlStore, home: KeelHome) -> DecidedDay:
    policy = current_policy()
    store.record_policy_version(**policy.record(), recorded_by="keel", reason="policy in force when decisions were made")
    merged = features.merge(scores[[APPLICATION_ID, SCORE, "model_version"]], on=APPLICATION_ID, how="left", validate="one_to_one")
    model_version = next(iter(merged["model_version"].dropna().unique()), None)
    model_available = model_version is not None and merged[SCORE].notna().all()
    decided = decide(
        merged,
        merged[SCORE],
        policy,
        training_profile=training_profile_for(store, model_version),
        model_available=bool(model_available),
    )
    frame = merged[[APPLICATION_ID, APPLICATION_DATE, SCORE, "model_version"]].merge(decided, on=APPLICATION_ID, validate="one_to_one")
    return DecidedDay(frame, policy.version)


def build_review_queue(features: pd.DataFrame, decisions: pd.DataFrame, store: ControlStore, home: KeelHome, day: str) -> pd.DataFrame:
    """The cases sent to review, with what a reviewer needs and when they are due."""
    from keel.models.artifacts import ModelStore
    from keel.models.explain import top_feature_contributions
    from keel.review import due_by

    policy = current_policy()
    queue = decisions[decisions["route"] == ROUTE_REVIEW].copy()
    queued_at = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour=6), tzinfo=dt.timezone.utc)
    queue["queued_at"] = queued_at.isoformat()
    queue["due_by"] = due_by(queued_at, policy).isoformat()
    queue["top_features"] = ""
    if len(queue) and queue["model_version"].notna().any():
        try:
            model: LoadedModel = load_alias(store, ModelStore(home.models), CHAMPION)
            rows = features.set_index(APPLICATION_ID).loc[queue[APPLICATION_ID]].reset_index()
            queue["top_features"] = [" ; ".join(items) for items in top_feature_contributions(model.pipeline, rows, k=3)]
        except ModelUnavailable:
            pass
    return queue.reset_index(drop=True)
