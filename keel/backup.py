"""A consistent copy of a KEEL_HOME, taken while the UI and daemon run.

Copying the folder with `tar` is only safe with everything stopped: a run
writing the warehouse or Dagster's event log mid-copy leaves a copy no
restore can trust. `keel backup` takes one without stopping anything:

- it refuses while a run is in progress (its steps would be half in the
  copy), and when a run started during the copy, even one over by its end
  (some files would hold it and others not);
- the warehouse is copied under a read-only DuckDB connection, which no
  writer can open beside, so no step changes it during the copy (a step
  that needs it waits, as it waits for another step);
- every SQLite file (the control store, Dagster's runs, event logs and
  schedules) through SQLite's online backup, a consistent snapshot of each;
- the rest (landing files, model artifacts, the review inbox, reports, the
  pseudonym key) as files.

The archive holds MANIFEST.json: each file's size and sha256, the home it
came from, the code's commit and when. Restoring is unpacking it into an
empty folder and pointing KEEL_HOME at it (docs/OPERATIONS.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from keel.landing_watch import file_sha256
from keel.manifest import ALTERED, MISSING, OUTSIDE, UNLISTED, manifest_problems

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
MANIFEST = "MANIFEST.json"
SQLITE_SUFFIXES = (".db", ".sqlite")
# Left out: DuckDB's spill folder (scratch), SQLite's side files (the online backup reads through them), lock files.
SKIPPED_SUFFIXES = ("-wal", "-shm", "-journal", ".lock")
SKIPPED_FOLDERS = ("warehouse.duckdb.tmp",)


class BackupRefused(ValueError):
    """The backup was not taken, and why."""


@dataclass(frozen=True)
class BackupResult:
    archive: Path
    files: int
    bytes: int
    sha256: str  # the archive's
    code_version: str | None
    includes_pseudonym_key: bool

    def to_dict(self) -> dict:
        return {
            "archive": str(self.archive),
            "files": self.files,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "code_version": self.code_version,
            "includes_pseudonym_key": self.includes_pseudonym_key,
        }


def archive_problem(out: Path, home_root: Path) -> str | None:
    """Why `out` cannot be the archive (None if it can): its name, an existing file, a missing folder, inside the home."""
    if not out.name.endswith(ARCHIVE_SUFFIXES):
        return f"{out}: the archive's name must end in {' or '.join(ARCHIVE_SUFFIXES)}"
    if out.exists():
        return f"{out} exists; a backup never overwrites one: name another file"
    if not out.parent.is_dir():
        return f"{out.parent} is not a folder: create it first"
    resolved, home = out.resolve(), home_root.resolve()
    if resolved.is_relative_to(home):
        return f"{out} is inside KEEL_HOME {home}: the backup would hold itself; write it elsewhere"
    return None


def files_to_copy(root: Path) -> list[Path]:
    """Every file of the home a restore needs, relative to `root`, in a stable order."""
    chosen = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or path.is_symlink():
            continue
        if relative.parts[0] in SKIPPED_FOLDERS or path.name.endswith(SKIPPED_SUFFIXES):
            continue
        chosen.append(relative)
    return chosen


def snapshot_sqlite(source: Path, target: Path) -> None:
    """A consistent snapshot of a SQLite file that others may be writing (SQLite's online backup)."""
    with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as reading, contextlib.closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)


def unfinished_runs(instance) -> list[str]:
    """Ids of the instance's runs that have not finished (`keel status`'s UNFINISHED: queued, starting, started, cancelling)."""
    import dagster as dg

    from keel.status import UNFINISHED

    return instance.get_run_ids(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus(status) for status in UNFINISHED]))


def _refuse_if_running(instance, when: str) -> None:
    running = unfinished_runs(instance)
    if running:
        raise BackupRefused(
            f"{len(running)} run(s) {when}, so the copy would hold them half done: {', '.join(running[:3])}"
            + (" and more" if len(running) > 3 else "")
            + ". Take the backup when they have ended (the UI's Runs page, or `keel status`)"
        )


def _run_ids(instance) -> set[str]:
    return set(instance.get_run_ids())


def _refuse_if_new_runs(instance, before: set[str]) -> None:
    """A run created during the copy, even one already over, may be in some of the files copied and not in others."""
    new = sorted(_run_ids(instance) - before)
    if new:
        raise BackupRefused(
            f"{len(new)} run(s) started while the copy was taken ({', '.join(new[:3])}" + (" and more" if len(new) > 3 else "")
            + "), so some files would hold them and others not: take the backup again"
        )


def take_backup(home, out: Path, progress: Callable[[str], None] = lambda _phase: None) -> BackupResult:
    """Write a consistent copy of `home` to the archive `out` (see the module's docstring); BackupRefused if it cannot."""
    from keel import warehouse as wh
    from keel.code_version import git_commit
    from keel.orchestrate import instance_for

    problem = archive_problem(out, home.root)
    if problem:
        raise BackupRefused(problem)
    partial = out.with_name(out.name + ".partial")
    entries = []
    try:
        with instance_for(home) as instance, tempfile.TemporaryDirectory(prefix="keel-backup-") as scratch, tarfile.open(partial, "w:gz") as archive:
            _refuse_if_running(instance, "are in progress")
            runs_before = _run_ids(instance)
            files = files_to_copy(home.root)
            # While this read-only connection is open no step can open the warehouse to write, so every file is
            # copied as of one moment of it (a step that needs it meanwhile waits, as for another step).
            with wh.connect(home.warehouse, read_only=True) if home.warehouse.exists() else contextlib.nullcontext():
                for number, relative in enumerate(files, start=1):
                    progress(f"file {number} of {len(files)}: {relative}")
                    source = home.root / relative
                    if not source.exists():
                        raise BackupRefused(
                            f"{relative} was moved or removed while the copy was taken (by the landing or review sensor?): take the backup again"
                        )
                    if relative.suffix in SQLITE_SUFFIXES:
                        source = Path(scratch) / "snapshot"
                        snapshot_sqlite(home.root / relative, source)
                    entries.append({"path": str(relative), "bytes": source.stat().st_size, "sha256": file_sha256(source)})
                    archive.add(source, arcname=str(relative), recursive=False)
                _refuse_if_new_runs(instance, runs_before)
            manifest = {
                "kind": "keel home backup",
                "home": str(home.root),
                "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "code_version": git_commit(),
                "files": entries,
            }
            data = (json.dumps(manifest, indent=2) + "\n").encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(dt.datetime.now().timestamp())
            archive.addfile(info, io.BytesIO(data))
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(
        archive=out,
        files=len(entries),
        bytes=out.stat().st_size,
        sha256=file_sha256(out),
        code_version=manifest["code_version"],
        includes_pseudonym_key=any(Path(entry["path"]).parts[0] == "secrets" for entry in entries),
    )


@dataclass(frozen=True)
class RestoreResult:
    home: Path
    files: int
    created_at: str
    from_home: str
    code_version: str | None

    def to_dict(self) -> dict:
        return {"home": str(self.home), "files": self.files, "created_at": self.created_at, "from_home": self.from_home, "code_version": self.code_version}


def restore_problem(archive: Path, into: Path) -> str | None:
    """Why `archive` cannot be restored into `into` (None if it can)."""
    if not archive.is_file():
        return f"{archive}: no such archive"
    if into.exists() and (not into.is_dir() or any(into.iterdir())):
        return f"{into} exists and is not an empty folder: restore into a new one"
    return None


def restore_backup(archive: Path, into: Path, progress: Callable[[str], None] = lambda _phase: None) -> RestoreResult:
    """Unpack a `keel backup` archive into the new folder `into` and check every file against its manifest.

    Members are unpacked with tarfile's `data` filter: no absolute path, no
    `..`, no link out of the folder, no device file. A file whose sha256 is
    not the manifest's, a file missing or one the manifest does not name
    refuses the restore, and the folder is removed.
    """
    from keel.home import KeelHome

    problem = restore_problem(archive, into)
    if problem:
        raise BackupRefused(problem)
    created = not into.exists()
    into.mkdir(parents=True, exist_ok=True)
    try:
        progress(f"unpacking {archive.name}")
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(into, filter="data")
        except (tarfile.TarError, EOFError, OSError) as error:  # not a gzip tar, cut off, or a member the filter refused
            raise BackupRefused(f"{archive}: cannot be unpacked safely: {type(error).__name__}: {error}") from None
        manifest_path = into / MANIFEST
        if not manifest_path.is_file():
            raise BackupRefused(f"{archive}: no {MANIFEST}; not an archive `keel backup` wrote")
        try:
            manifest = json.loads(manifest_path.read_text())
            named = {entry["path"]: entry for entry in manifest["files"]}
            for entry in named.values():
                if not isinstance(entry["sha256"], str):
                    raise TypeError(f"{entry['path']}: its sha256 is not a text")
        except (ValueError, KeyError, TypeError) as error:
            raise BackupRefused(f"{archive}: its {MANIFEST} is not a keel backup manifest ({type(error).__name__}: {error})") from None
        words = {
            OUTSIDE: "not a path inside the archive",
            MISSING: "in the manifest, not in the archive",
            ALTERED: "its sha256 is not the manifest's",
            UNLISTED: "in the archive, not in its manifest",
        }
        checked = manifest_problems(
            into, {path: entry["sha256"] for path, entry in named.items()}, MANIFEST, on_file=lambda done, total: progress(f"checking file {done} of {total}")
        )
        problems = [f"{path}: {words[kind]}" for path, kind in checked]
        if problems:
            raise BackupRefused(f"{archive} does not match its manifest; nothing restored:\n" + "\n".join(problems))
        manifest_path.unlink()
        KeelHome(into.resolve()).ensure()  # Dagster's settings name the home's absolute path: this one's
    except BaseException:
        if created:
            shutil.rmtree(into, ignore_errors=True)
        else:
            for child in into.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        raise
    return RestoreResult(home=into, files=len(named), created_at=manifest["created_at"], from_home=manifest["home"], code_version=manifest.get("code_version"))
