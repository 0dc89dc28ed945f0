"""`keel backup` and `keel restore` on a demo home: the restored home is the same home, and keeps working.

The backup is taken as the operator would, with the instance live; a run
recorded as in progress in the home's real Dagster instance refuses it.
"""

import json
import tarfile
import uuid

import dagster as dg
import duckdb
import pytest

from tests.integration.helpers import instance_of, keel, keel_json

pytestmark = pytest.mark.integration


def _rows(home, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_a_restored_backup_is_the_same_home_and_decides_the_next_day(demo_copy, tmp_path):
    home, _summary = demo_copy
    archive = tmp_path / "keel-backup.tgz"
    taken = keel_json(home, "backup", "--out", str(archive))
    assert taken["archive"] == str(archive) and taken["files"] > 10
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    assert len(manifest["files"]) == taken["files"]
    assert {"warehouse.duckdb", "control.sqlite", "dagster/history/runs.db"} <= {entry["path"] for entry in manifest["files"]}

    again = keel(home, "backup", "--out", str(archive), check=False)
    assert again.returncode == 1 and "never overwrites" in again.stderr

    restored = tmp_path / "restored"
    done = keel_json(home, "restore", str(archive), "--into", str(restored))
    assert done["files"] == taken["files"] and done["from_home"] == str(home)
    assert keel_json(restored, "audit", "verify")["ok"] is True
    ledger = "select batch_seq, digest from audit.ledger_batches order by batch_seq"
    assert _rows(restored, ledger) == _rows(home, ledger)
    original, copy = keel_json(home, "status", check=False), keel_json(restored, "status", check=False)
    for key in ("last_decided_day", "days_decided", "review", "models", "ledger"):
        assert copy[key] == original[key], key
    assert copy["last_runs"].keys() == original["last_runs"].keys()

    # The restored home is a working home: its instance is its own, and it decides the next day.
    keel(restored, "land", "--date", "2026-01-04")
    keel(restored, "run", "--date", "2026-01-04")
    assert _rows(restored, "select count(*) from decisioning.decisions where application_date = '2026-01-04'") == [(100,)]
    assert _rows(home, "select count(*) from decisioning.decisions where application_date = '2026-01-04'") == [(0,)]
    assert keel_json(restored, "audit", "verify")["ok"] is True


def test_a_run_in_progress_refuses_the_backup_and_leaves_no_archive(demo_copy, tmp_path, monkeypatch):
    home, _summary = demo_copy
    with instance_of(home, monkeypatch) as instance:
        run_id = str(uuid.uuid4())
        instance.add_run(dg.DagsterRun(job_name="daily_decisioning", run_id=run_id, status=dg.DagsterRunStatus.STARTED))
        try:
            refused = keel(home, "backup", "--out", str(tmp_path / "b.tgz"), check=False)
        finally:
            instance.delete_run(run_id)
    assert refused.returncode == 1
    assert f"1 run(s) are in progress, so the copy would hold them half done: {run_id}" in refused.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_run_that_started_and_ended_during_the_copy_refuses_it(demo_copy, tmp_path, monkeypatch):
    from keel.backup import BackupRefused, take_backup
    from keel.home import KeelHome

    home, _summary = demo_copy
    started = []
    with instance_of(home, monkeypatch) as instance:

        def a_run_during_the_copy(phase: str) -> None:
            # Halfway through the files, as a sensor's run would: created and over before the copy ends.
            if phase.startswith("file 5 of") and not started:
                started.append(str(uuid.uuid4()))
                instance.add_run(dg.DagsterRun(job_name="review_decisions", run_id=started[0], status=dg.DagsterRunStatus.SUCCESS))

        try:
            with pytest.raises(BackupRefused, match=r"1 run\(s\) started while the copy was taken \([0-9a-f-]{36}\), so some files would hold them"):
                take_backup(KeelHome(home), tmp_path / "b.tgz", progress=a_run_during_the_copy)
        finally:
            for run_id in started:
                instance.delete_run(run_id)
    assert started and list(tmp_path.iterdir()) == []

