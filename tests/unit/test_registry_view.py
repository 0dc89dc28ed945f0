"""The registry as the UI shows it, and when the champion's move asks for rescoring."""

import pytest

from keel.control_store import ControlStore
from keel.registry_view import champion_moved, days_to_rescore, registry_snapshot, rescore_days_on_promotion
from keel.scoring import NO_MODEL


def test_snapshot_names_champion_and_latest_moves_first(tmp_path):
    store = ControlStore(tmp_path / "control.sqlite")
    for version in ("m-aaaaaaaaaaaa", "m-bbbbbbbbbbbb"):
        store.register_model_version(version=version, artifact_sha256="0" * 64, metrics={}, training_window=None, features=["age"], params={})
    store.move_alias("champion", "m-aaaaaaaaaaaa", by="ana", reason="first")
    store.move_alias("champion", "m-bbbbbbbbbbbb", by="ben", reason="better")
    snapshot = registry_snapshot(store)
    assert snapshot["champion"] == "m-bbbbbbbbbbbb" and snapshot["challenger"] is None and snapshot["alias_moves"] == 2
    assert list(snapshot["recent_moves"]["by"]) == ["ben", "ana"]
    moves = store.alias_history()
    assert champion_moved(moves, 1) and not champion_moved(moves, 2)


def test_rescoring_is_off_by_default_and_validated():
    assert rescore_days_on_promotion({}) == 0
    assert rescore_days_on_promotion({"KEEL_RESCORE_DAYS_ON_PROMOTION": "3"}) == 3
    with pytest.raises(ValueError, match="whole number of days"):
        rescore_days_on_promotion({"KEEL_RESCORE_DAYS_ON_PROMOTION": "-1"})


def test_only_days_another_model_scored_are_rescored():
    recent = ["2026-01-07", "2026-01-08", "2026-01-09"]
    scored_by = {"2026-01-07": "m-aaaaaaaaaaaa", "2026-01-08": "m-bbbbbbbbbbbb", "2026-01-09": NO_MODEL}
    assert days_to_rescore(recent, scored_by, "m-bbbbbbbbbbbb") == ["2026-01-07", "2026-01-09"]
    assert days_to_rescore(recent, scored_by, None) == ["2026-01-07", "2026-01-08"], "no champion: the fallback rules decide"
    assert days_to_rescore(recent, {}, "m-bbbbbbbbbbbb") == recent, "a day whose scorer is unknown is rescored"
