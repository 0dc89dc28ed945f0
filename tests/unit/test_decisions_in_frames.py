"""A large day is routed a frame at a time straight from the warehouse, with exactly the routes of the whole day at once."""

import dataclasses

import duckdb
import numpy as np
import pandas as pd
import pytest

from keel.columns import ROUTE_REVIEW
from keel.control_store import ControlStore
from keel.decisioning import (
    REVIEW_QUEUE_SQL,
    DayScoring,
    current_policy,
    day_scoring_in,
    decide_day,
    decide_day_in_frames,
    review_queue_params,
    review_queue_times,
)
from keel.home import KeelHome
from keel.models.seed_features import seed_feature_frame
from keel.policy import PolicyNotInForce, TrainingProfile
from keel.policy.definition import Rollout
from keel.warehouse import query_frame, replace_rows_from_query

DAY = "2026-01-05"
FEATURES_SQL = "select * from marts.application_features where application_date = cast(? as date) order by application_id"
SCORES_SQL = "select * from decisioning.scores where application_date = cast(? as date) order by application_id"


def _warehouse(tmp_path, scores: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    features = seed_feature_frame().head(1_500).drop(columns=["status", "is_bad"]).assign(application_date=pd.Timestamp(DAY))
    # Another day's rows must be left out.
    other_day = features.head(50).assign(application_id=lambda f: "B" + f["application_id"], application_date=pd.Timestamp("2026-01-04"))
    con.execute("create schema marts")
    con.execute("create schema decisioning")
    con.register("features_in", pd.concat([features, other_day], ignore_index=True))
    con.execute("create table marts.application_features as select * from features_in")
    con.register("scores_in", scores.assign(application_date=pd.Timestamp(DAY)))
    con.execute("create table decisioning.scores as select * from scores_in")
    return con


def _store(tmp_path) -> ControlStore:
    store = ControlStore(tmp_path / "control.sqlite")
    profile = {"training_profile": TrainingProfile.from_frame(seed_feature_frame()).to_dict()}
    for version in ("m-champion000", "m-challenger0"):
        store.register_model_version(
            version=version, artifact_sha256="0" * 64, metrics={}, training_window=None, features=[], params={}, profiles=profile,
            gate={"passed": True, "failures": []},
        )
        store.record_approval(version, by="risk-officer", reason="gate and segments reviewed")  # so the challenger may decide its share
    return store


def _scores(champion: np.ndarray, challenger: np.ndarray | None) -> pd.DataFrame:
    ids = seed_feature_frame().head(1_500)["application_id"]
    return pd.DataFrame(
        {
            "application_id": ids,
            "p_bad": champion,
            "model_version": "m-champion000",
            "challenger_p_bad": challenger if challenger is not None else np.nan,
            "challenger_version": "m-challenger0" if challenger is not None else None,
        }
    )


rng = np.random.default_rng(11)
CHAMPION = rng.random(1_500)
CHALLENGER = rng.random(1_500)
ONE_MISSING = CHAMPION.copy()
ONE_MISSING[700] = np.nan


@pytest.mark.parametrize(
    "scores",
    [
        pytest.param(_scores(CHAMPION, CHALLENGER), id="champion and challenger, a rollout share"),
        pytest.param(_scores(ONE_MISSING, None), id="one score missing: the fallback rules decide the whole day"),
        pytest.param(_scores(CHAMPION, None).head(0), id="no scores at all"),
    ],
)
def test_frames_route_exactly_as_the_whole_day(tmp_path, scores):
    con = _warehouse(tmp_path, scores)
    store = _store(tmp_path)
    policy = dataclasses.replace(current_policy(), rollout=Rollout(challenger_share=0.25))
    features, day_scores = query_frame(con, FEATURES_SQL, [DAY]), query_frame(con, SCORES_SQL, [DAY])
    whole = decide_day(features, day_scores, store, KeelHome(tmp_path), policy).frame

    reader = con.cursor()
    frames = list(decide_day_in_frames(reader, DAY, store, policy, rows_per_frame=400))
    assert len(frames) >= 4
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), whole)

    columns = ["application_id", "p_bad", "model_version", "challenger_p_bad", "challenger_version"]
    assert day_scoring_in(con, DAY) == DayScoring.of(features.merge(day_scores[columns], on="application_id", how="left"))


def test_the_facts_of_the_day_come_from_the_whole_day_not_a_frame(tmp_path):
    con = _warehouse(tmp_path, _scores(ONE_MISSING, CHALLENGER))
    scoring = day_scoring_in(con, DAY)
    assert scoring == DayScoring(1_500, "m-champion000", False, "m-challenger0", True)
    frames = list(decide_day_in_frames(con.cursor(), DAY, _store(tmp_path), current_policy(), rows_per_frame=400))
    # The missing score sits in the second frame; every frame is decided by the fallback rules.
    assert all((frame["decided_by"] == "fallback_rules").all() for frame in frames)


def test_the_review_queue_built_in_sql_is_the_queue_of_the_whole_day(tmp_path):
    con = _warehouse(tmp_path, _scores(CHAMPION, CHALLENGER))
    features, day_scores = query_frame(con, FEATURES_SQL, [DAY]), query_frame(con, SCORES_SQL, [DAY])
    decided = decide_day(features, day_scores, _store(tmp_path), KeelHome(tmp_path), current_policy()).frame
    con.register("decided_in", decided)
    con.execute("create table decisioning.decisions as select * from decided_in")

    whole_day = query_frame(con, "select * from decisioning.decisions order by application_id", [])
    for _ in range(2):  # a rerun of the day replaces its queue
        queued = replace_rows_from_query(con, "review", "review_queue", REVIEW_QUEUE_SQL, review_queue_params(DAY), "application_date", [DAY])
    from_sql = query_frame(con, "select * from review.review_queue order by application_id", [])
    assert 0 < queued == len(from_sql) < len(whole_day)
    expected = whole_day[whole_day["route"] == ROUTE_REVIEW].reset_index(drop=True)
    expected["queued_at"], expected["due_by"] = review_queue_times(DAY)
    pd.testing.assert_frame_equal(from_sql, expected)


def test_a_day_before_the_policy_takes_effect_is_refused_before_anything_is_read_or_recorded(tmp_path):
    con = _warehouse(tmp_path, _scores(CHAMPION, None))
    store = _store(tmp_path)
    policy = dataclasses.replace(current_policy(), effective_date=pd.Timestamp(DAY).date() + pd.Timedelta(days=1))
    features, day_scores = query_frame(con, FEATURES_SQL, [DAY]), query_frame(con, SCORES_SQL, [DAY])
    with pytest.raises(PolicyNotInForce, match=f"cannot decide the applications of {DAY}"):
        decide_day(features, day_scores, store, KeelHome(tmp_path), policy)
    closed = con.cursor()
    closed.close()  # a refusal that read the day first would fail on this cursor with another error
    with pytest.raises(PolicyNotInForce, match=f"cannot decide the applications of {DAY}"):
        decide_day_in_frames(closed, DAY, store, policy, rows_per_frame=400)
    assert store.policy_history() == []  # never recorded as the policy in force

    in_force_that_day = dataclasses.replace(policy, effective_date=pd.Timestamp(DAY).date())
    assert sum(len(frame) for frame in decide_day_in_frames(con.cursor(), DAY, store, in_force_that_day, rows_per_frame=400)) == 1_500
    assert [row["effective_date"] for row in store.policy_history()] == [DAY]
