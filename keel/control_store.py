"""The control plane: model versions, approvals, alias moves, policy versions and events.

Who trained which model on what data, who approved it and why, which model
was champion when, which policy was in force: the facts an auditor asks for
and a rollback needs. They live in a small SQL database (SQLite in WAL mode
locally, Postgres in production) that is append-only — no row is ever
updated or deleted, and triggers refuse any attempt — so the history cannot
be rewritten, only added to.

Several processes use it at once (Dagster runs, sensors, the CLI). Every
call opens its own connection and holds a transaction only for the few
statements it needs; writes start with BEGIN IMMEDIATE so two writers queue
on the busy timeout instead of failing with "database is locked" when a read
would have to be upgraded to a write. WAL lets readers proceed while a
writer commits.

Aliases (champion, challenger) are not stored as a mutable pointer but as a
sequence of moves; the current target is the last move's. A rollback is a
move too, recorded with kind "rollback": see `rollback_alias` for how
repeated rollbacks walk back through the history.

Only the table definitions and triggers are SQLite dialect; the statements
that read and append are plain SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BUSY_TIMEOUT_SECONDS = 30.0
SCHEMA_VERSION = 1
MOVE = "move"
ROLLBACK = "rollback"

APPEND_ONLY_TABLES: tuple[str, ...] = ("model_versions", "approvals", "alias_moves", "policy_versions", "events")

SCHEMA: tuple[str, ...] = (
    """
    create table if not exists model_versions (
        seq integer primary key autoincrement,
        version text not null unique,
        artifact_sha256 text not null,
        created_at text not null,
        training_window_start text,
        training_window_end text,
        features_json text not null,
        params_json text not null,
        metrics_json text not null,
        run_id text,
        partition_key text,
        model_card text,
        profiles_json text,
        gate_json text
    )
    """,
    """
    create table if not exists approvals (
        seq integer primary key autoincrement,
        version text not null references model_versions (version),
        approved_by text not null,
        reason text not null,
        approved_at text not null
    )
    """,
    """
    create table if not exists alias_moves (
        seq integer primary key autoincrement,
        alias text not null,
        alias_seq integer not null,
        kind text not null check (kind in ('move', 'rollback')),
        from_version text,
        to_version text not null references model_versions (version),
        moved_by text not null,
        reason text not null,
        moved_at text not null,
        unique (alias, alias_seq)
    )
    """,
    """
    create table if not exists policy_versions (
        seq integer primary key autoincrement,
        version text not null,
        sha256 text not null,
        owner text,
        effective_date text,
        recorded_by text not null,
        reason text not null,
        recorded_at text not null,
        unique (version, sha256)
    )
    """,
    """
    create table if not exists events (
        seq integer primary key autoincrement,
        kind text not null,
        payload_json text not null,
        recorded_at text not null
    )
    """,
    "create index if not exists approvals_by_version on approvals (version)",
    "create index if not exists events_by_kind on events (kind)",
) + tuple(
    f"""
    create trigger if not exists {table}_no_{action} before {action} on {table}
    begin select raise(abort, '{table} is append-only: rows are never {action}d'); end
    """
    for table in APPEND_ONLY_TABLES
    for action in ("update", "delete")
)


class UnknownModelVersion(LookupError):
    """The model version is not in the registry."""


class RegistrationConflict(ValueError):
    """A version is registered again with a different artifact: training was not deterministic, or a file changed."""


class AliasMoveRefused(ValueError):
    """An alias move that would not change anything or has nowhere to go; the message says why."""


def _now(at: dt.datetime | str | None = None) -> str:
    if isinstance(at, str):
        return at
    moment = at or dt.datetime.now(dt.timezone.utc)
    if moment.tzinfo is None:
        raise ValueError(f"timestamps must carry a time zone; found naive {moment.isoformat()}")
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def _plain(value: Any) -> Any:
    """A JSON-ready copy: numpy and pandas scalars become Python, NaN and infinities None."""
    import numpy as np  # here, not at the top: the definitions import this module and load without numpy

    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [_plain(v) for v in items]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if hasattr(value, "to_dict") and callable(value.to_dict):  # e.g. GateResult
        return _plain(value.to_dict())
    if hasattr(value, "isoformat"):  # pandas Timestamp
        return value.isoformat()
    return value


def _to_json(value: Any) -> str:
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _window(training_window: Mapping | Sequence | None) -> tuple[str | None, str | None]:
    if training_window is None:
        return None, None
    if isinstance(training_window, Mapping):
        start, end = training_window.get("start"), training_window.get("end")
    else:
        start, end = training_window
    return (None if start is None else str(_plain(start))), (None if end is None else str(_plain(end)))


def _required_text(name: str, value: str | None) -> str:
    if value is None or not str(value).strip():
        raise ValueError(f"{name} is required: every change to the control plane records who made it and why")
    return str(value)


def _model_row(row: sqlite3.Row, include_blobs: bool = True) -> dict:
    record = {
        "seq": row["seq"],
        "version": row["version"],
        "artifact_sha256": row["artifact_sha256"],
        "created_at": row["created_at"],
        "training_window": {"start": row["training_window_start"], "end": row["training_window_end"]},
        "features": _from_json(row["features_json"]),
        "params": _from_json(row["params_json"]),
        "metrics": _from_json(row["metrics_json"]),
        "run_id": row["run_id"],
        "partition": row["partition_key"],
        "gate": _from_json(row["gate_json"]),
    }
    if include_blobs:
        record["model_card"] = row["model_card"]
        record["profiles"] = _from_json(row["profiles_json"])
    return record


def _move_row(row: sqlite3.Row) -> dict:
    return {
        "seq": row["seq"],
        "alias": row["alias"],
        "alias_seq": row["alias_seq"],
        "kind": row["kind"],
        "from_version": row["from_version"],
        "to_version": row["to_version"],
        "by": row["moved_by"],
        "reason": row["reason"],
        "at": row["moved_at"],
    }


class ControlStore:
    """The append-only control plane in one SQLite file; safe to use from several processes."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._ensure_schema()

    # --- connections ---------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; each method says BEGIN itself.
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute(f"pragma busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        connection.execute("pragma foreign_keys = on")
        return connection

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        connection = self._connect()
        try:
            connection.execute("begin immediate")
            try:
                yield connection
            except BaseException:
                connection.execute("rollback")
                raise
            connection.execute("commit")
        finally:
            connection.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        connection = self._connect()
        try:
            connection.execute("begin")  # one consistent snapshot for the whole read
            yield connection
            connection.execute("commit")
        finally:
            connection.close()

    def _ensure_schema(self) -> None:
        # Switching a new file to WAL can fail at once with "database is locked"
        # while another process is creating the same file: SQLite does not wait
        # on the busy timeout for that lock, so retry it here, for as long.
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        pause = 0.005
        while True:
            try:
                return self._create_schema()
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
                if time.monotonic() + pause > deadline:
                    raise sqlite3.OperationalError(
                        f"{self.path}: could not initialise the control store within {BUSY_TIMEOUT_SECONDS:.0f} s: {error}"
                    ) from error
                time.sleep(pause)
                pause = min(pause * 2, 0.2)

    def _create_schema(self) -> None:
        connection = self._connect()
        try:
            # WAL is a property of the file: set once, it stays; readers then never block writers.
            mode = connection.execute("pragma journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                mode = connection.execute("pragma journal_mode = wal").fetchone()[0]
            if str(mode).lower() != "wal":
                raise RuntimeError(f"{self.path}: could not switch the control store to WAL mode (journal_mode is {mode})")
            if connection.execute("pragma user_version").fetchone()[0] >= SCHEMA_VERSION:
                return
            connection.execute("begin immediate")
            try:
                for statement in SCHEMA:
                    connection.execute(statement)
                connection.execute(f"pragma user_version = {SCHEMA_VERSION}")
                connection.execute("commit")
            except BaseException:
                connection.execute("rollback")
                raise
        finally:
            connection.close()

    # --- model versions ------------------------------------------------------

    def register_model_version(
        self,
        version: str,
        artifact_sha256: str,
        metrics: Mapping,
        training_window: Mapping | Sequence | None,
        features: Sequence[str],
        params: Mapping,
        run_id: str | None = None,
        partition: str | None = None,
        model_card: str = "",
        profiles: Mapping | None = None,
        gate: Mapping | Any | None = None,
        created_at: dt.datetime | str | None = None,
    ) -> bool:
        """Record a trained model; True if this call added it.

        Registering a version that is already there is a no-op (the first
        record stands, metrics and card included) — unless the artifact hash
        differs: the version is derived from the training inputs, so the same
        version with different bytes means non-deterministic training or a
        changed file, and that is refused with RegistrationConflict.
        `profiles` is an opaque JSON object (reference profiles from the
        monitoring module); `gate` a GateResult or its dict.
        """
        start, end = _window(training_window)
        with self._write() as connection:
            existing = connection.execute("select artifact_sha256 from model_versions where version = ?", (version,)).fetchone()
            if existing is not None:
                if existing["artifact_sha256"] != artifact_sha256:
                    raise RegistrationConflict(
                        f"model {version} is registered with artifact sha256 {existing['artifact_sha256']}; "
                        f"this registration brings {artifact_sha256}. The same inputs must give the same bytes: "
                        "check the library versions and the artifact file"
                    )
                return False
            connection.execute(
                """
                insert into model_versions (
                    version, artifact_sha256, created_at, training_window_start, training_window_end,
                    features_json, params_json, metrics_json, run_id, partition_key, model_card, profiles_json, gate_json
                ) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    version,
                    artifact_sha256,
                    _now(created_at),
                    start,
                    end,
                    _to_json(list(features)),
                    _to_json(params),
                    _to_json(metrics),
                    run_id,
                    partition,
                    model_card,
                    None if profiles is None else _to_json(profiles),
                    None if gate is None else _to_json(gate),
                ),
            )
            return True

    def get_model_version(self, version: str) -> dict | None:
        """Everything recorded about one model version, JSON fields decoded; None if unknown."""
        with self._read() as connection:
            row = connection.execute("select * from model_versions where version = ?", (version,)).fetchone()
        return None if row is None else _model_row(row)

    def list_model_versions(self, include_blobs: bool = False) -> list[dict]:
        """All model versions, oldest first; the model card and profiles only if asked for."""
        with self._read() as connection:
            rows = connection.execute("select * from model_versions order by seq").fetchall()
        return [_model_row(row, include_blobs) for row in rows]

    # --- approvals -----------------------------------------------------------

    def record_approval(self, version: str, by: str, reason: str, at: dt.datetime | str | None = None) -> dict:
        """A person's approval of a model version, with who and why."""
        by, reason = _required_text("by", by), _required_text("reason", reason)
        approved_at = _now(at)
        with self._write() as connection:
            self._require_version(connection, version)
            cursor = connection.execute(
                "insert into approvals (version, approved_by, reason, approved_at) values (?, ?, ?, ?)",
                (version, by, reason, approved_at),
            )
        return {"seq": cursor.lastrowid, "version": version, "by": by, "reason": reason, "at": approved_at}

    def approvals_for(self, version: str) -> list[dict]:
        with self._read() as connection:
            rows = connection.execute("select * from approvals where version = ? order by seq", (version,)).fetchall()
        return [{"seq": r["seq"], "version": r["version"], "by": r["approved_by"], "reason": r["reason"], "at": r["approved_at"]} for r in rows]

    # --- aliases ---------------------------------------------------------------

    @staticmethod
    def _require_version(connection: sqlite3.Connection, version: str) -> None:
        if connection.execute("select 1 from model_versions where version = ?", (version,)).fetchone() is None:
            raise UnknownModelVersion(f"model {version} is not in the registry")

    @staticmethod
    def _moves(connection: sqlite3.Connection, alias: str) -> list[sqlite3.Row]:
        return connection.execute("select * from alias_moves where alias = ? order by alias_seq", (alias,)).fetchall()

    @staticmethod
    def _lineage(moves: Sequence[sqlite3.Row]) -> list[str]:
        """The versions a rollback can return to, oldest first; the last is the current target.

        A move pushes its target, a rollback pops the current one, so
        rollbacks undo moves in reverse order — like an undo stack.
        """
        stack: list[str] = []
        for move in moves:
            if move["kind"] == ROLLBACK:
                stack.pop()
            else:
                stack.append(move["to_version"])
        return stack

    def _append_move(self, connection, alias, kind, from_version, to_version, by, reason, at) -> dict:
        moves = self._moves(connection, alias)
        alias_seq = (moves[-1]["alias_seq"] if moves else 0) + 1
        cursor = connection.execute(
            """
            insert into alias_moves (alias, alias_seq, kind, from_version, to_version, moved_by, reason, moved_at)
            values (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            (alias, alias_seq, kind, from_version, to_version, by, reason, _now(at)),
        )
        return _move_row(connection.execute("select * from alias_moves where seq = ?", (cursor.lastrowid,)).fetchone())

    def move_alias(self, alias: str, to_version: str, by: str, reason: str, at: dt.datetime | str | None = None) -> dict:
        """Point `alias` at `to_version` (a forward move; from_version is the current target). Returns the move."""
        by, reason = _required_text("by", by), _required_text("reason", reason)
        with self._write() as connection:
            self._require_version(connection, to_version)
            moves = self._moves(connection, alias)
            current = moves[-1]["to_version"] if moves else None
            if current == to_version:
                raise AliasMoveRefused(f"the {alias} alias already points at {to_version}")
            return self._append_move(connection, alias, MOVE, current, to_version, by, reason, at)

    def rollback_alias(self, alias: str, by: str, reason: str, at: dt.datetime | str | None = None) -> dict:
        """Move `alias` back to the version it pointed at before the current one. Returns the move.

        Rollbacks walk back through the forward moves: after moves to A, B, C
        a rollback goes to B, a second one to A, a third is refused (nothing
        before A). A new forward move after a rollback starts a new branch:
        A, B, C, rollback (B), move to D, rollback goes to B again. Moving
        forward to an old version by hand (move_alias) is a forward move, so a
        rollback after it returns to where it came from.
        """
        by, reason = _required_text("by", by), _required_text("reason", reason)
        with self._write() as connection:
            moves = self._moves(connection, alias)
            lineage = self._lineage(moves)
            if len(lineage) < 2:
                where = f"it points at {lineage[-1]}, its first version" if lineage else "it has never been set"
                undone = [m["from_version"] for m in moves if m["kind"] == ROLLBACK]
                forward = f" (to undo the rollback from {undone[-1]}, promote it again)" if undone else ""
                raise AliasMoveRefused(f"the {alias} alias cannot be rolled back: {where}{forward}")
            return self._append_move(connection, alias, ROLLBACK, lineage[-1], lineage[-2], by, reason, at)

    def current_alias(self, alias: str) -> str | None:
        with self._read() as connection:
            row = connection.execute(
                "select to_version from alias_moves where alias = ? order by alias_seq desc limit 1", (alias,)
            ).fetchone()
        return None if row is None else row["to_version"]

    def previous_alias_target(self, alias: str) -> str | None:
        """Where `rollback_alias` would move the alias now; None if it cannot be rolled back."""
        with self._read() as connection:
            lineage = self._lineage(self._moves(connection, alias))
        return lineage[-2] if len(lineage) >= 2 else None

    def alias_history(self, alias: str | None = None) -> list[dict]:
        """Every move of one alias (or of all aliases), in the order they happened."""
        with self._read() as connection:
            if alias is None:
                rows = connection.execute("select * from alias_moves order by seq").fetchall()
            else:
                rows = self._moves(connection, alias)
        return [_move_row(row) for row in rows]

    # --- policies --------------------------------------------------------------

    def record_policy_version(
        self,
        version: str,
        sha256: str,
        owner: str | None,
        effective_date: dt.date | str | None,
        recorded_by: str,
        reason: str,
        at: dt.datetime | str | None = None,
    ) -> bool:
        """Record that a policy (version and content hash) is in force; True if it is new.

        Idempotent on (version, sha256): decisions record the policy every day
        and only the first sighting is kept. A changed file under the same
        version number is a new row, visible in policy_history.
        """
        recorded_by, reason = _required_text("recorded_by", recorded_by), _required_text("reason", reason)
        with self._write() as connection:
            cursor = connection.execute(
                """
                insert into policy_versions (version, sha256, owner, effective_date, recorded_by, reason, recorded_at)
                values (?, ?, ?, ?, ?, ?, ?)
                on conflict (version, sha256) do nothing
                """,
                (str(version), sha256, owner, None if effective_date is None else str(_plain(effective_date)), recorded_by, reason, _now(at)),
            )
            return cursor.rowcount == 1

    def policy_history(self) -> list[dict]:
        with self._read() as connection:
            rows = connection.execute("select * from policy_versions order by seq").fetchall()
        return [
            {
                "seq": r["seq"],
                "version": r["version"],
                "sha256": r["sha256"],
                "owner": r["owner"],
                "effective_date": r["effective_date"],
                "recorded_by": r["recorded_by"],
                "reason": r["reason"],
                "at": r["recorded_at"],
            }
            for r in rows
        ]

    # --- events ----------------------------------------------------------------

    def record_event(self, kind: str, payload: Mapping | None = None, at: dt.datetime | str | None = None) -> int:
        """Append a free-form event (e.g. a sensor's finding); returns its sequence number."""
        kind = _required_text("kind", kind)
        with self._write() as connection:
            cursor = connection.execute(
                "insert into events (kind, payload_json, recorded_at) values (?, ?, ?)", (kind, _to_json(payload or {}), _now(at))
            )
            return int(cursor.lastrowid)

    def events(self, kind: str | None = None) -> list[dict]:
        with self._read() as connection:
            if kind is None:
                rows = connection.execute("select * from events order by seq").fetchall()
            else:
                rows = connection.execute("select * from events where kind = ? order by seq", (kind,)).fetchall()
        return [{"seq": r["seq"], "kind": r["kind"], "payload": _from_json(r["payload_json"]), "at": r["recorded_at"]} for r in rows]
