"""Backups of a KEEL_HOME: where an archive may go, what goes in, and a restore that trusts nothing it unpacks (keel/backup.py)."""

import hashlib
import io
import json
import sqlite3
import tarfile

import pytest

from keel.backup import MANIFEST, BackupRefused, snapshot_sqlite, archive_problem, files_to_copy, restore_backup, restore_problem


def test_an_archive_must_be_a_new_tar_gz_outside_the_home(tmp_path):
    home = tmp_path / "home"
    (home / "reports").mkdir(parents=True)
    assert archive_problem(tmp_path / "keel.tar.gz", home) is None
    assert archive_problem(tmp_path / "keel.tgz", home) is None
    assert "must end in .tar.gz or .tgz" in archive_problem(tmp_path / "keel.zip", home)
    assert "inside KEEL_HOME" in archive_problem(home / "reports" / "keel.tgz", home)
    assert "is not a folder" in archive_problem(tmp_path / "missing" / "keel.tgz", home)
    (tmp_path / "old.tgz").write_bytes(b"")
    assert "never overwrites" in archive_problem(tmp_path / "old.tgz", home)


def test_the_copy_leaves_out_duckdbs_spill_folder_and_sqlites_side_files(tmp_path):
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal", "warehouse.duckdb.tmp/spill_0.block", "control.sqlite", "control.sqlite-wal",
                 "control.sqlite-journal", "dagster/history/runs.db", "dagster/history/runs.db-shm", "landing/applications/applications_2026-01-01.csv",
                 "dagster/.dagster.lock"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert [str(path) for path in files_to_copy(tmp_path)] == [
        "control.sqlite",
        "dagster/history/runs.db",
        "landing/applications/applications_2026-01-01.csv",
        "warehouse.duckdb",
        "warehouse.duckdb.wal",
    ]


def test_a_sqlite_snapshot_holds_what_was_committed_while_a_writer_holds_a_transaction_open(tmp_path):
    source = tmp_path / "runs.db"
    writer = sqlite3.connect(source)
    writer.execute("create table runs (id text)")
    writer.execute("insert into runs values ('committed')")
    writer.commit()
    writer.execute("insert into runs values ('not yet')")  # open, uncommitted
    snapshot_sqlite(source, tmp_path / "copy.db")
    writer.rollback()
    writer.close()
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("select id from runs").fetchall() == [("committed",)]


def _manifest(files: dict[str, bytes]) -> dict:
    return {
        "home": "/old/home",
        "created_at": "2026-12-06T06:00:00+00:00",
        "code_version": "abc",
        "files": [{"path": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()} for name, data in files.items()],
    }


def _archive(path, files: dict[str, bytes], manifest: dict | None = None):
    """A tar.gz as `keel backup` writes it: the files, then a manifest naming each (or `manifest` as given)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in {**files, MANIFEST: json.dumps(manifest or _manifest(files)).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_a_restore_checks_every_file_against_the_manifest_and_sets_the_home_up(tmp_path):
    archive = _archive(tmp_path / "b.tgz", {"landing/applications/applications_2026-01-01.csv": b"a,b\n1,2\n", "models/m.skops": b"model"})
    result = restore_backup(archive, tmp_path / "restored")
    assert (result.files, result.from_home) == (2, "/old/home")
    assert (tmp_path / "restored" / "models" / "m.skops").read_bytes() == b"model"
    assert not (tmp_path / "restored" / MANIFEST).exists()
    # The Dagster settings name the restored folder, not the one backed up.
    assert str((tmp_path / "restored").resolve()) in (tmp_path / "restored" / "dagster" / "dagster.yaml").read_text()


def test_an_altered_or_incomplete_archive_restores_nothing(tmp_path):
    files = {"models/m.skops": b"model", "control.sqlite": b"store"}
    good = _manifest(files)
    altered = _archive(tmp_path / "altered.tgz", {**files, "models/m.skops": b"MODEL"}, manifest=good)
    with pytest.raises(BackupRefused, match=r"models/m.skops: its sha256 is not the manifest's"):
        restore_backup(altered, tmp_path / "r1")
    assert not (tmp_path / "r1").exists()
    extra = _archive(tmp_path / "extra.tgz", {**files, "models/evil.skops": b"x"}, manifest=good)
    with pytest.raises(BackupRefused, match=r"models/evil.skops: in the archive, not in its manifest"):
        restore_backup(extra, tmp_path / "r2")
    not_a_manifest = _archive(tmp_path / "other.tgz", files, manifest={"files": [{"path": "models/m.skops"}]})
    with pytest.raises(BackupRefused, match=r"its MANIFEST.json is not a keel backup manifest \(KeyError: 'sha256'\)"):
        restore_backup(not_a_manifest, tmp_path / "r4")
    missing = _archive(tmp_path / "missing.tgz", {"models/m.skops": b"model"}, manifest=good)
    with pytest.raises(BackupRefused, match=r"control.sqlite: in the manifest, not in the archive"):
        restore_backup(missing, tmp_path / "r3")


def test_a_member_reaching_out_of_the_folder_is_refused_before_anything_lands_outside(tmp_path):
    archive = _archive(tmp_path / "evil.tgz", {"../outside.txt": b"x"})
    with pytest.raises(BackupRefused, match="cannot be unpacked safely"):
        restore_backup(archive, tmp_path / "r")
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path / "r").exists()
    (tmp_path / "not-an-archive.tgz").write_bytes(b"plain text")
    with pytest.raises(BackupRefused, match="cannot be unpacked safely"):
        restore_backup(tmp_path / "not-an-archive.tgz", tmp_path / "r")


def test_a_restore_goes_only_into_a_new_or_empty_folder(tmp_path):
    archive = _archive(tmp_path / "b.tgz", {"models/m.skops": b"model"})
    assert "no such archive" in restore_problem(tmp_path / "none.tgz", tmp_path / "r")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "warehouse.duckdb").write_bytes(b"x")
    assert "is not an empty folder" in restore_problem(archive, tmp_path / "used")
    assert restore_problem(archive, tmp_path / "new") is None
    (tmp_path / "empty").mkdir()
    assert restore_problem(archive, tmp_path / "empty") is None

