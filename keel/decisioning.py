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
from keel.scoring import CHAMPION, ModelUnavailable, load_alias, score

POLICY_PATH = REPO_ROOT / "policies" / "credit_policy.yaml"


def current_policy() -> Policy:
    return load_policy(POLICY_PATH)


CHALLENGER = "challenger"
CHALLENGER_SCORE = "challenger_p_bad"
# Salt of the rollout draw: independent of the QA sample's, so the two shares do not overlap by design.
ROLLOUT_SALT = "challenger-rollout"


@dataclass
class ScoredDay:
    frame: pd.DataFrame
    model_version: str | None
    model_available: bool
    unavailable_reason: str | None = None
    challenger_version: str | None = None
    challenger_reason: str | None = None


def score_day(features: pd.DataFrame, store: ControlStore, home: KeelHome) -> ScoredDay:
    """Score the day's applications with the champion (and the challenger in shadow, when one is set)."""
    from keel.models.artifacts import ModelStore  # skops and sklearn load with the first score

    base = features[[APPLICATION_ID, APPLICATION_DATE]].copy()
    models = ModelStore(home.models)
    challenger_version, challenger_reason = None, None
    base[CHALLENGER_SCORE] = np.nan
    base["challenger_version"] = None
    if store.current_alias(CHALLENGER) and store.current_alias(CHALLENGER) != store.current_alias(CHAMPION):
        try:
            challenger = load_alias(store, models, CHALLENGER)
            base[CHALLENGER_SCORE] = score(challenger.pipeline, features)
            base["challenger_version"] = challenger.version
            challenger_version = challenger.version
        except ModelUnavailable as reason:
            challenger_reason = str(reason)  # the champion still decides; the shadow is just missing
    try:
        model = load_alias(store, models, CHAMPION)
    except ModelUnavailable as reason:
        base[SCORE] = np.nan
        base["model_version"] = None
        return ScoredDay(base, None, False, str(reason), challenger_version, challenger_reason)
    base[SCORE] = score(model.pipeline, features)
    base["model_version"] = model.version
    return ScoredDay(base, model.version, True, None, challenger_version, challenger_reason)


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


def _decide_with(merged: pd.DataFrame, column: str, version: str | None, policy: Policy, store: ControlStore) -> pd.DataFrame:
    available = version is not None and merged[column].notna().all()
    return decide(merged, merged[column], policy, training_profile=training_profile_for(store, version), model_available=bool(available))


def in_rollout(application_ids: pd.Series, share: float) -> np.ndarray:
    """True for the applications the challenger decides: a deterministic, hash-based share of ids."""
    from keel.policy import qa_uniform

    if share <= 0 or len(application_ids) == 0:
        return np.zeros(len(application_ids), dtype=bool)
    return qa_uniform(application_ids.astype("str").tolist(), ROLLOUT_SALT) < share


def shadow_comparison(features: pd.DataFrame, scores: pd.DataFrame, store: ControlStore) -> dict | None:
    """How the challenger's decisions would differ from the champion's on the day (None without a challenger)."""
    if CHALLENGER_SCORE not in scores.columns or scores[CHALLENGER_SCORE].isna().all():
        return None
    policy = current_policy()
    merged = features.merge(scores, on=[APPLICATION_ID, APPLICATION_DATE], how="left", validate="one_to_one")
    champion_version = next(iter(merged["model_version"].dropna().unique()), None)
    challenger_version = next(iter(merged["challenger_version"].dropna().unique()), None)
    champion = _decide_with(merged, SCORE, champion_version, policy, store)["route"].to_numpy()
    challenger = _decide_with(merged, CHALLENGER_SCORE, challenger_version, policy, store)["route"].to_numpy()
    differ = champion != challenger
    flips: dict[str, int] = {}
    for a, b in zip(champion[differ], challenger[differ]):
        flips[f"{a}->{b}"] = flips.get(f"{a}->{b}", 0) + 1
    return {
        "challenger_version": challenger_version,
        "agreement": float(1.0 - differ.mean()) if len(differ) else 1.0,
        "decision_flips": int(differ.sum()),
        "flips": dict(sorted(flips.items())),
        "mean_abs_score_difference": float(np.nanmean(np.abs(merged[SCORE] - merged[CHALLENGER_SCORE]))) if champion_version else float("nan"),
    }


def decide_day(features: pd.DataFrame, scores: pd.DataFrame, store: ControlStore, home: KeelHome, policy: Policy | None = None) -> DecidedDay:
    """Route each application; a rollout share of it is decided by the challenger when one scored the day."""
    policy = policy or current_policy()
    store.record_policy_version(**policy.record(), recorded_by="keel", reason="policy in force when decisions were made")
    columns = [APPLICATION_ID, SCORE, "model_version"] + [c for c in (CHALLENGER_SCORE, "challenger_version") if c in scores.columns]
    merged = features.merge(scores[columns], on=APPLICATION_ID, how="left", validate="one_to_one")
    model_version = next(iter(merged["model_version"].dropna().unique()), None)
    decided = _decide_with(merged, SCORE, model_version, policy, store)
    decided_by_model = pd.Series([model_version] * len(merged), dtype="object")
    has_challenger = CHALLENGER_SCORE in merged.columns and merged[CHALLENGER_SCORE].notna().all() and len(merged)
    if has_challenger and model_version and policy.rollout.challenger_share > 0:
        challenger_version = next(iter(merged["challenger_version"].dropna().unique()))
        rollout = in_rollout(merged[APPLICATION_ID], policy.rollout.challenger_share)
        by_challenger = _decide_with(merged, CHALLENGER_SCORE, challenger_version, policy, store)
        decided = decided.copy()
        decided.loc[rollout] = by_challenger.loc[rollout].to_numpy()
        decided_by_model[rollout] = challenger_version
    frame = merged[[APPLICATION_ID, APPLICATION_DATE, SCORE, "model_version"]].merge(decided, on=APPLICATION_ID, validate="one_to_one")
    # Which model's score decided each row (None when the fallback rules did).
    frame["decided_by_model"] = np.where(frame["model_unavailable"].to_numpy(dtype=bool), None, decided_by_model.to_numpy())
    return DecidedDay(frame, policy.version)


def build_review_queue(decisions: pd.DataFrame, day: str) -> pd.DataFrame:
    """The cases sent to review, with what a reviewer needs and when they are due.

    The features that pushed each score are computed when a case is shown
    (keel.review.explanations), with the model version recorded here.
    """
    from keel.review import due_by

    policy = current_policy()
    queue = decisions[decisions["route"] == ROUTE_REVIEW].copy()
    queued_at = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour=6), tzinfo=dt.timezone.utc)
    queue["queued_at"] = queued_at.isoformat()
    queue["due_by"] = due_by(queued_at, policy).isoformat()
    return queue.reset_index(drop=True)
