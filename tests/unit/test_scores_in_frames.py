"""A large day is scored a frame of features at a time, with exactly the scores and shadow comparison of the whole day at once."""

import duckdb
import pandas as pd
import pytest

from keel.control_store import ControlStore
from keel.decisioning import DayModels, ScoringTally, score_day, score_day_in_frames, shadow_comparison
from keel.home import KeelHome
from keel.models.artifacts import ModelStore
from keel.models.seed_features import seed_feature_frame
from keel.models.training import train_model
from keel.warehouse import query_frame

DAY = "2026-01-05"
FEATURES_SQL = "select * from marts.application_features where application_date = cast(? as date) order by application_id"


@pytest.fixture(scope="module")
def seed_frame():
    return seed_feature_frame()


@pytest.fixture(scope="module")
def two_models(seed_frame):
    return train_model(seed_frame, {"max_iter": 30}, "test-frames-a"), train_model(seed_frame, {"max_iter": 60, "max_depth": 2}, "test-frames-b")


@pytest.fixture
def home(tmp_path):
    return KeelHome(tmp_path / "home").ensure()


def _registry(home, two_models, champion: bool, challenger: bool) -> ControlStore:
    store = ControlStore(home.control_store)
    models = ModelStore(home.models)
    for trained in two_models:
        store.register_model_version(trained.version, models.save(trained.pipeline, trained.version), {}, {}, [], {})
    if champion:
        store.move_alias("champion", two_models[0].version, by="test", reason="champion")
    if challenger:
        store.move_alias("challenger", two_models[1].version, by="test", reason="challenger")
    return store


def _warehouse(tmp_path, seed_frame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    features = seed_frame.head(1_200).drop(columns=["status", "is_bad"]).assign(application_date=pd.Timestamp(DAY))
    other_day = features.head(40).assign(application_id=lambda f: "B" + f["application_id"], application_date=pd.Timestamp("2026-01-04"))
    con.execute("create schema marts")
    con.register("features_in", pd.concat([features, other_day], ignore_index=True))
    con.execute("create table marts.application_features as select * from features_in")
    return con


@pytest.mark.parametrize("champion,challenger", [(True, True), (True, False), (False, True), (False, False)])
def test_frames_give_the_scores_and_the_shadow_of_the_whole_day(tmp_path, home, seed_frame, two_models, champion, challenger):
    store = _registry(home, two_models, champion, challenger)
    con = _warehouse(tmp_path, seed_frame)
    features = query_frame(con, FEATURES_SQL, [DAY])
    whole = score_day(features, store, home)

    models = DayModels.load(store, home)
    tally = ScoringTally()
    frames = list(score_day_in_frames(con.cursor(), DAY, models, store, tally, rows_per_frame=500))

    assert len(frames) == 3
    streamed = pd.concat(frames, ignore_index=True)
    pd.testing.assert_frame_equal(streamed, whole.frame)
    assert tally.rows == len(features) == 1_200
    assert (models.champion is not None) == champion == whole.model_available
    if champion:
        assert tally.mean_p_bad == pytest.approx(whole.frame["p_bad"].mean(), rel=1e-12)
        assert whole.frame["p_bad"].notna().all()
    else:
        assert tally.mean_p_bad == 0.0 and models.unavailable_reason
    expected = shadow_comparison(features, whole.frame, store) if whole.challenger_version else None
    if challenger:
        assert expected is not None and tally.shadow is not None
        got = tally.shadow.result()
        assert got["challenger_version"] == expected["challenger_version"] == two_models[1].version
        assert got["flips"] == expected["flips"]
        assert got["decision_flips"] == expected["decision_flips"]
        assert got["agreement"] == pytest.approx(expected["agreement"])
        if champion:
            assert got["mean_abs_score_difference"] == pytest.approx(expected["mean_abs_score_difference"])
            assert got["mean_abs_score_difference"] > 0, "two different models"
    else:
        assert tally.shadow is None and expected is None


def test_an_empty_day_gives_one_empty_frame_of_scores(tmp_path, home, seed_frame, two_models):
    store = _registry(home, two_models, True, False)
    con = _warehouse(tmp_path, seed_frame)
    tally = ScoringTally()
    frames = list(score_day_in_frames(con.cursor(), "2026-02-01", DayModels.load(store, home), store, tally, rows_per_frame=500))
    assert [len(f) for f in frames] == [0]
    assert list(frames[0].columns) == ["application_id", "application_date", "challenger_p_bad", "challenger_version", "p_bad", "model_version"]
    assert tally.rows == 0 and tally.mean_p_bad == 0.0


def test_an_empty_day_has_no_shadow_comparison(tmp_path, home, seed_frame, two_models):
    store = _registry(home, two_models, True, True)
    con = _warehouse(tmp_path, seed_frame)
    tally = ScoringTally()
    list(score_day_in_frames(con.cursor(), "2026-02-01", DayModels.load(store, home), store, tally, rows_per_frame=500))
    assert tally.shadow is None, "as shadow_comparison says of a day with no challenger scores"
