"""The day's scoring, routing and review queue, as plain functions over frames.

Assets call these with what they read from the warehouse and store what comes
back; the model, the policy and the training profile are looked up in the
control store so every row records the versions that produced it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from keel.columns import APPLICATION_DATE, APPLICATION_ID, ROUTE_REVIEW, SCORE
from keel.control_store import ControlStore
from keel.frames import merge_one_to_one
from keel.home import REPO_ROOT, KeelHome
from keel.model_lifecycle import deciding_refusal
from keel.policy import Policy, TrainingProfile, decide, load_policy
from keel.scoring import CHAMPION, LoadedModel, ModelUnavailable, load_alias, score

POLICY_PATH = REPO_ROOT / "policies" / "credit_policy.yaml"
# The feature mart dbt builds: (schema, table).
FEATURES_MART = ("marts", "application_features")
DAY_FEATURES_SQL = f"select * from {'.'.join(FEATURES_MART)} where application_date = cast(? as date) order by application_id"


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


@dataclass(frozen=True)
class DayModels:
    """The models that score a day, loaded and hash-checked once for all of its frames."""

    champion: LoadedModel | None
    unavailable_reason: str | None = None
    challenger: LoadedModel | None = None
    challenger_reason: str | None = None

    @classmethod
    def load(cls, store: ControlStore, home: KeelHome) -> "DayModels":
        from keel.models.artifacts import ModelStore  # skops and sklearn load with the first score

        models = ModelStore(home.models)
        challenger, challenger_reason = None, None
        if store.current_alias(CHALLENGER) and store.current_alias(CHALLENGER) != store.current_alias(CHAMPION):
            try:
                challenger = load_alias(store, models, CHALLENGER)
            except ModelUnavailable as reason:
                challenger_reason = str(reason)  # the champion still decides; the shadow is just missing
        try:
            return cls(load_alias(store, models, CHAMPION), None, challenger, challenger_reason)
        except ModelUnavailable as reason:
            return cls(None, str(reason), challenger, challenger_reason)

    def score(self, features: pd.DataFrame) -> pd.DataFrame:
        """The scores of these applications: p_bad and model_version (empty when the champion is unavailable), the challenger's in shadow."""
        base = features[[APPLICATION_ID, APPLICATION_DATE]].copy()
        base[CHALLENGER_SCORE] = score(self.challenger.pipeline, features) if self.challenger else np.nan
        base["challenger_version"] = self.challenger.version if self.challenger else None
        base[SCORE] = score(self.champion.pipeline, features) if self.champion else np.nan
        base["model_version"] = self.champion.version if self.champion else None
        return base

    def scored_day(self, features: pd.DataFrame) -> "ScoredDay":
        champion, challenger = self.champion, self.challenger
        return ScoredDay(
            self.score(features),
            champion.version if champion else None,
            champion is not None,
            self.unavailable_reason,
            challenger.version if challenger else None,
            self.challenger_reason,
        )


def preload_day_models(home: KeelHome) -> DayModels | None:
    """The day's models loaded as the scores step loads them, which leaves them in this process's cache of deserialized models.

    None, without touching anything, when `home` has no control store yet.
    """
    if not home.control_store.is_file():
        return None
    return DayModels.load(ControlStore(home.control_store), home)


def score_day(features: pd.DataFrame, store: ControlStore, home: KeelHome) -> ScoredDay:
    """Score the day's applications with the champion (and the challenger in shadow, when one is set)."""
    return DayModels.load(store, home).scored_day(features)


@dataclass
class ScoringTally:
    """What the scores step reports about a day scored a frame at a time."""

    rows: int = 0
    p_bad_sum: float = 0.0
    shadow: "ShadowTally | None" = None

    @property
    def mean_p_bad(self) -> float:
        return self.p_bad_sum / self.rows if self.rows else 0.0


def score_day_in_frames(con, day: str, models: DayModels, store: ControlStore, tally: ScoringTally, rows_per_frame: int) -> Iterator[pd.DataFrame]:
    """The day's scores a frame of features at a time (what score_day gives, without holding the whole day); `tally` adds up as they go.

    `con` must be a cursor of its own: the features stream from it while the
    caller writes the scores elsewhere.
    """
    from keel.warehouse import query_frames

    policy = current_policy()
    for features in query_frames(con, DAY_FEATURES_SQL, [day], rows_per_frame=rows_per_frame):
        scored = models.score(features)
        tally.rows += len(scored)
        tally.p_bad_sum += float(np.nansum(scored[SCORE].to_numpy(dtype="float64")))
        if models.challenger is not None and len(scored):
            tally.shadow = tally.shadow or ShadowTally()
            tally.shadow.add(features, scored, store, policy, champion_complete=models.champion is not None, challenger_complete=True)
        yield scored


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


def _decide_with(merged: pd.DataFrame, column: str, version: str | None, complete: bool, policy: Policy, store: ControlStore) -> pd.DataFrame:
    """The policy's routes with `column` as the score; the model counts as available only if it scored the whole day."""
    available = version is not None and complete
    return decide(merged, merged[column], policy, training_profile=training_profile_for(store, version), model_available=bool(available))


def in_rollout(application_ids: pd.Series, share: float) -> np.ndarray:
    """True for the applications the challenger decides: a deterministic, hash-based share of ids."""
    from keel.policy import qa_uniform

    if share <= 0 or len(application_ids) == 0:
        return np.zeros(len(application_ids), dtype=bool)
    return qa_uniform(application_ids, ROLLOUT_SALT) < share


@dataclass
class ShadowTally:
    """How the challenger's decisions would differ from the champion's, added up over a day's frames."""

    challenger_version: str | None = None
    compared: int = 0
    differ: int = 0
    flips: dict[str, int] = field(default_factory=dict)
    abs_difference_sum: float = 0.0
    abs_difference_count: int = 0

    def add(self, features: pd.DataFrame, scores: pd.DataFrame, store: ControlStore, policy: Policy, champion_complete: bool, challenger_complete: bool) -> None:
        """Compare on these applications; `*_complete` say whether each model scored the whole day (else its fallback rules decide)."""
        merged = merge_one_to_one(features, scores, on=[APPLICATION_ID, APPLICATION_DATE], how="left")
        champion_version = next(iter(merged["model_version"].dropna().unique()), None)
        self.challenger_version = self.challenger_version or next(iter(merged["challenger_version"].dropna().unique()), None)
        champion = _decide_with(merged, SCORE, champion_version, champion_complete, policy, store)["route"].to_numpy()
        challenger = _decide_with(merged, CHALLENGER_SCORE, self.challenger_version, challenger_complete, policy, store)["route"].to_numpy()
        differ = champion != challenger
        for a, b in zip(champion[differ], challenger[differ]):
            self.flips[f"{a}->{b}"] = self.flips.get(f"{a}->{b}", 0) + 1
        self.compared += len(differ)
        self.differ += int(differ.sum())
        difference = np.abs(merged[SCORE].to_numpy(dtype="float64") - merged[CHALLENGER_SCORE].to_numpy(dtype="float64"))
        self.abs_difference_sum += float(np.nansum(difference))
        self.abs_difference_count += int(np.count_nonzero(~np.isnan(difference)))

    def result(self) -> dict:
        return {
            "challenger_version": self.challenger_version,
            "agreement": 1.0 - self.differ / self.compared if self.compared else 1.0,
            "decision_flips": self.differ,
            "flips": dict(sorted(self.flips.items())),
            "mean_abs_score_difference": self.abs_difference_sum / self.abs_difference_count if self.abs_difference_count else float("nan"),
        }


def shadow_comparison(features: pd.DataFrame, scores: pd.DataFrame, store: ControlStore) -> dict | None:
    """How the challenger's decisions would differ from the champion's on the day (None without a challenger)."""
    if CHALLENGER_SCORE not in scores.columns or scores[CHALLENGER_SCORE].isna().all():
        return None
    tally = ShadowTally()
    tally.add(
        features,
        scores,
        store,
        current_policy(),
        champion_complete=bool(scores[SCORE].notna().all()),
        challenger_complete=bool(scores[CHALLENGER_SCORE].notna().all()),
    )
    return tally.result()


@dataclass(frozen=True)
class DayScoring:
    """What the whole day's scores say, settled before any row is routed.

    The model decides only a day it scored completely, so a large day routed
    a frame at a time needs these facts of the whole day first.
    """

    applications: int
    model_version: str | None
    champion_complete: bool  # every application of the day has a champion score
    challenger_version: str | None
    challenger_complete: bool

    @classmethod
    def of(cls, merged: pd.DataFrame) -> "DayScoring":
        """From the day's features merged with its scores, in application_id order."""
        challenger = merged[CHALLENGER_SCORE] if CHALLENGER_SCORE in merged.columns else None
        return cls(
            applications=len(merged),
            model_version=next(iter(merged["model_version"].dropna().unique()), None),
            champion_complete=bool(merged[SCORE].notna().all()),
            challenger_version=next(iter(merged["challenger_version"].dropna().unique()), None) if challenger is not None else None,
            challenger_complete=bool(challenger is not None and challenger.notna().all()),
        )


def record_policy_in_force(store: ControlStore, policy: Policy) -> None:
    store.record_policy_version(**policy.record(), recorded_by="keel", reason="policy in force when decisions were made")


def decide_day(features: pd.DataFrame, scores: pd.DataFrame, store: ControlStore, home: KeelHome, policy: Policy | None = None) -> DecidedDay:
    """Route each application; a rollout share of it is decided by the challenger when one scored the day."""
    policy = policy or current_policy()
    for day in features[APPLICATION_DATE].drop_duplicates():
        policy.refuse_unless_in_force_on(day)
    record_policy_in_force(store, policy)
    columns = [APPLICATION_ID, SCORE, "model_version"] + [c for c in (CHALLENGER_SCORE, "challenger_version") if c in scores.columns]
    merged = merge_one_to_one(features, scores[columns], on=APPLICATION_ID, how="left")
    return DecidedDay(decide_rows(merged, DayScoring.of(merged), policy, store), policy.version)


def decide_rows(merged: pd.DataFrame, day: DayScoring, policy: Policy, store: ControlStore) -> pd.DataFrame:
    """The routes of some of the day's applications (features merged with scores), given the whole day's scoring."""
    model_version = day.model_version
    decided = _decide_with(merged, SCORE, model_version, day.champion_complete, policy, store)
    decided_by_model = pd.Series([model_version] * len(merged), dtype="object")
    rollout = None
    has_challenger = day.challenger_complete and day.applications
    # Deciding a share is a partial promotion: without an approval and a passed
    # gate the challenger stays in shadow, whatever the share (set_challenger
    # refuses such a version while the share is above 0; the policy may change after).
    if (
        has_challenger and model_version and policy.rollout.challenger_share > 0
        and deciding_refusal(store, day.challenger_version) is None
    ):
        challenger_version = day.challenger_version
        rollout = in_rollout(merged[APPLICATION_ID], policy.rollout.challenger_share)
        by_challenger = _decide_with(merged, CHALLENGER_SCORE, challenger_version, True, policy, store)
        decided = decided.copy()
        decided.loc[rollout] = by_challenger.loc[rollout].to_numpy()
        decided_by_model[rollout] = challenger_version
    frame = merge_one_to_one(merged[[APPLICATION_ID, APPLICATION_DATE, SCORE, "model_version"]], decided, on=APPLICATION_ID)
    # Which model's score decided each row (None when the fallback rules did).
    frame["decided_by_model"] = np.where(frame["model_unavailable"].to_numpy(dtype=bool), None, decided_by_model.to_numpy())
    if rollout is not None and rollout.any():
        # The score a row was routed on is the one it carries (the reviewer's queue, the ledger);
        # model_version stays the day's champion, whose own score is in decisioning.scores.
        routed_on = frame[SCORE].to_numpy(dtype="float64", na_value=np.nan, copy=True)
        routed_on[rollout] = merged[CHALLENGER_SCORE].to_numpy(dtype="float64", na_value=np.nan)[rollout]
        frame[SCORE] = routed_on
    return frame


# The day's features with their scores, as decide_day merges them, in application_id order.
_DAY_INPUTS = """
from marts.application_features f
left join (
    select application_id, p_bad, model_version, challenger_p_bad, challenger_version
    from decisioning.scores where application_date = cast(? as date)
) s using (application_id)
where f.application_date = cast(? as date)
"""
DECISION_INPUTS_SQL = f"select f.*, s.p_bad, s.model_version, s.challenger_p_bad, s.challenger_version {_DAY_INPUTS} order by f.application_id"
# DayScoring.of in SQL: a score is missing when NULL or NaN; versions are the first found in application_id order.
DAY_SCORING_SQL = f"""
select count(*),
       arg_min(s.model_version, f.application_id) filter (where s.model_version is not null),
       count(*) filter (where s.p_bad is null or isnan(s.p_bad)) = 0,
       arg_min(s.challenger_version, f.application_id) filter (where s.challenger_version is not null),
       count(*) filter (where s.challenger_p_bad is null or isnan(s.challenger_p_bad)) = 0
{_DAY_INPUTS}
"""


def day_scoring_in(con, day: str) -> DayScoring:
    """DayScoring of a day from the warehouse, without reading its rows into memory."""
    applications, model_version, champion_complete, challenger_version, challenger_complete = con.execute(DAY_SCORING_SQL, [day, day]).fetchall()[0]
    return DayScoring(int(applications), model_version, bool(champion_complete), challenger_version, bool(challenger_complete))


def decide_day_in_frames(con, day: str, store: ControlStore, policy: Policy, rows_per_frame: int) -> Iterator[pd.DataFrame]:
    """The day's routes a frame at a time (what decide_day gives, without holding the whole day).

    `con` must be a cursor of its own: the frames stream from it while the
    caller writes them elsewhere.
    """
    from keel.warehouse import query_frames

    policy.refuse_unless_in_force_on(day)  # here, not at the first frame: the caller learns before it starts writing
    scoring = day_scoring_in(con, day)
    record_policy_in_force(store, policy)
    return (decide_rows(merged, scoring, policy, store) for merged in query_frames(con, DECISION_INPUTS_SQL, [day, day], rows_per_frame=rows_per_frame))


# The day's review queue: the cases sent to a person, with when they were
# queued and are due. Computed in the warehouse (a million-row day has ~0.4
# million cases); the features that pushed each score are explained when a
# case is shown (keel.review.explanations), with the model version kept here.
# Parameters: review_queue_params.
REVIEW_QUEUE_SQL = (
    "select *, cast(? as varchar) as queued_at, cast(? as varchar) as due_by from decisioning.decisions"
    " where application_date = cast(? as date) and route = ? order by application_id"
)


def review_queue_times(day: str) -> tuple[str, str]:
    """When the day's review cases are queued (06:00 UTC that day) and when they are due under the policy in force, as ISO text."""
    from keel.review import due_by

    queued_at = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour=6), tzinfo=dt.timezone.utc)
    return queued_at.isoformat(), due_by(queued_at, current_policy()).isoformat()


def review_queue_params(day: str) -> list[str]:
    """REVIEW_QUEUE_SQL's parameters for `day`."""
    return [*review_queue_times(day), day, ROUTE_REVIEW]
