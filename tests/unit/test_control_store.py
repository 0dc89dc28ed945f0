"""The control store is append-only: history is added to, never rewritten."""

from __future__ import annotations

import datetime as dt
import sqlite3

import numpy as np
import pytest

from keel.control_store import AliasMoveRefused, ControlStore, RegistrationConflict, UnknownModelVersion
from keel.models.evaluation import GateResult

SHA_A, SHA_B = "a" * 64, "b" * 64


def _register(store: ControlStore, version: str, sha256: str = SHA_A, **extra) -> bool:
    return store.register_model_version(
        version=version,
        artifact_sha256=sha256,
        metrics={"roc_auc": np.float64(0.84), "segment_auc": float("nan"), "segments": {"home": {"owner": {"rows": np.int64(3)}}}},
        training_window={"start": "2025-11-01", "end": "2025-12-30"},
        features=["income", "age"],
        params={"max_depth": 3},
        **extra,
    )


@pytest.fixture
def store(tmp_path):
    return ControlStore(tmp_path / "control.sqlite")


def test_a_registered_version_reads_back_with_its_json_decoded(store):
    assert _register(store, "m-1", run_id="run-9", partition="2026-01-01", model_card="# card", profiles={"training_profile": {"x": 1}},
                     gate=GateResult(passed=False, failures=["too weak"]))
    record = store.get_model_version("m-1")
    assert record["artifact_sha256"] == SHA_A
    assert record["metrics"] == {"roc_auc": 0.84, "segment_auc": None, "segments": {"home": {"owner": {"rows": 3}}}}
    assert record["training_window"] == {"start": "2025-11-01", "end": "2025-12-30"}
    assert record["features"] == ["income", "age"] and record["params"] == {"max_depth": 3}
    assert record["run_id"] == "run-9" and record["partition"] == "2026-01-01"
    assert record["profiles"] == {"training_profile": {"x": 1}} and record["model_card"] == "# card"
    assert record["gate"]["passed"] is False and record["gate"]["failures"] == ["too weak"]
    assert store.get_model_version("m-404") is None


def test_registering_the_same_version_twice_is_a_no_op(store):
    assert _register(store, "m-1", model_card="first") is True
    assert _register(store, "m-1", model_card="second") is False
    assert store.get_model_version("m-1")["model_card"] == "first"
    assert [v["version"] for v in store.list_model_versions()] == ["m-1"]
    assert "model_card" not in store.list_model_versions()[0]
    assert store.list_model_versions(include_blobs=True)[0]["model_card"] == "first"


def test_the_same_version_with_other_bytes_is_a_conflict_not_a_silent_no_op(store):
    _register(store, "m-1", SHA_A)
    with pytest.raises(RegistrationConflict, match=f"registered with artifact sha256 {SHA_A}; this registration brings {SHA_B}"):
        _register(store, "m-1", SHA_B)


def test_approvals_need_a_known_version_a_person_and_a_reason(store):
    _register(store, "m-1")
    at = dt.datetime(2026, 1, 2, 9, 30, tzinfo=dt.timezone.utc)
    store.record_approval("m-1", by="ana", reason="holdout AUC 0.84, segments reviewed", at=at)
    store.record_approval("m-1", by="ben", reason="second pair of eyes")
    approvals = store.approvals_for("m-1")
    assert [(a["by"], a["reason"]) for a in approvals] == [("ana", "holdout AUC 0.84, segments reviewed"), ("ben", "second pair of eyes")]
    assert approvals[0]["at"] == "2026-01-02T09:30:00.000000+00:00"
    with pytest.raises(UnknownModelVersion, match="m-404"):
        store.record_approval("m-404", by="ana", reason="x")
    with pytest.raises(ValueError, match="reason is required"):
        store.record_approval("m-1", by="ana", reason="  ")
    assert store.approvals_for("m-404") == []


def test_alias_moves_record_where_they_came_from(store):
    for version in ("m-1", "m-2"):
        _register(store, version)
    assert store.current_alias("champion") is None and store.previous_alias_target("champion") is None
    first = store.move_alias("champion", "m-1", by="ana", reason="first model")
    second = store.move_alias("champion", "m-2", by="ana", reason="better AUC")
    assert (first["from_version"], first["to_version"], first["alias_seq"]) == (None, "m-1", 1)
    assert (second["from_version"], second["to_version"], second["alias_seq"]) == ("m-1", "m-2", 2)
    store.move_alias("challenger", "m-1", by="ana", reason="shadow")
    assert store.current_alias("champion") == "m-2" and store.current_alias("challenger") == "m-1"
    assert [m["alias"] for m in store.alias_history()] == ["champion", "champion", "challenger"]
    with pytest.raises(AliasMoveRefused, match="already points at m-2"):
        store.move_alias("champion", "m-2", by="ana", reason="again")
    with pytest.raises(UnknownModelVersion):
        store.move_alias("champion", "m-404", by="ana", reason="typo")


def test_rollback_twice_walks_back_through_the_history_and_stops_at_the_first(store):
    for version in ("m-1", "m-2", "m-3"):
        _register(store, version)
        store.move_alias("champion", version, by="ana", reason=f"promote {version}")
    assert store.previous_alias_target("champion") == "m-2"
    back_once = store.rollback_alias("champion", by="ops", reason="m-3 misbehaves")
    assert (back_once["kind"], back_once["from_version"], back_once["to_version"]) == ("rollback", "m-3", "m-2")
    back_twice = store.rollback_alias("champion", by="ops", reason="m-2 too")
    assert (back_twice["from_version"], back_twice["to_version"]) == ("m-2", "m-1")  # not back to m-3
    assert store.current_alias("champion") == "m-1" and store.previous_alias_target("champion") is None
    with pytest.raises(AliasMoveRefused, match=r"its first version \(to undo the rollback from m-2, promote it again\)"):
        store.rollback_alias("champion", by="ops", reason="nothing left")
    # A forward move after rollbacks starts a new branch; rolling it back returns to m-1.
    store.move_alias("champion", "m-3", by="ana", reason="fixed")
    assert store.rollback_alias("champion", by="ops", reason="not fixed")["to_version"] == "m-1"
    history = store.alias_history("champion")
    assert [m["alias_seq"] for m in history] == list(range(1, 8))
    assert [m["kind"] for m in history] == ["move", "move", "move", "rollback", "rollback", "move", "rollback"]
    assert all(later["from_version"] == earlier["to_version"] for earlier, later in zip(history, history[1:]))


def test_nothing_can_be_updated_or_deleted_even_with_raw_sql(store):
    _register(store, "m-1")
    store.move_alias("champion", "m-1", by="ana", reason="first")
    store.record_approval("m-1", by="ana", reason="ok")
    store.record_policy_version("p-1", "c" * 64, "risk", "2026-01-01", recorded_by="keel", reason="in force")
    store.record_event("drift_alert", {"feature": "income"})
    connection = sqlite3.connect(store.path)
    try:
        for statement in (
            "update model_versions set artifact_sha256 = 'x'",
            "delete from model_versions",
            "update alias_moves set to_version = 'm-2'",
            "delete from alias_moves",
            "delete from approvals",
            "update policy_versions set owner = 'me'",
            "delete from events",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                connection.execute(statement)
    finally:
        connection.close()
    assert store.current_alias("champion") == "m-1"


def test_policy_versions_are_recorded_once_per_version_and_content(store):
    assert store.record_policy_version("p-1", "c" * 64, "risk", dt.date(2026, 1, 1), recorded_by="keel", reason="in force")
    assert not store.record_policy_version("p-1", "c" * 64, "risk", dt.date(2026, 1, 1), recorded_by="keel", reason="again")
    assert store.record_policy_version("p-1", "d" * 64, "risk", "2026-01-01", recorded_by="keel", reason="file edited")
    history = store.policy_history()
    assert [(p["version"], p["sha256"][0], p["effective_date"], p["reason"]) for p in history] == [
        ("p-1", "c", "2026-01-01", "in force"),
        ("p-1", "d", "2026-01-01", "file edited"),
    ]


def test_events_keep_their_payload_and_order(store):
    first = store.record_event("drift_alert", {"psi": np.float64(0.31), "feature": "income"})
    second = store.record_event("note", {"text": "hello"})
    assert second > first
    assert store.events("drift_alert") == [{"seq": first, "kind": "drift_alert", "payload": {"feature": "income", "psi": 0.31}, "at": store.events()[0]["at"]}]
    assert [e["kind"] for e in store.events()] == ["drift_alert", "note"]


def test_the_file_is_in_wal_mode_and_reopening_keeps_everything(tmp_path):
    path = tmp_path / "nested" / "control.sqlite"
    _register(ControlStore(path), "m-1")
    reopened = ControlStore(path)
    assert reopened.get_model_version("m-1") is not None
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("pragma journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()
