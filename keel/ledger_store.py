"""Appending to and reading the decision ledger in the warehouse (schema `audit`).

Appending is idempotent: when the rows a step would append for a day are the
same as the ones last recorded for that day and event type, nothing is added,
so re-running a day changes nothing. Different rows are appended as a new
batch that supersedes the earlier ones; nothing is updated or deleted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping

import duckdb
import pandas as pd

from keel.ledger import LEDGER_COLUMNS, Batch, ChainReport, canonical_chunks_in_order, canonical_texts, constant_column, next_batch, verify_batches
from keel.read_ahead import read_ahead
from keel.warehouse import STAGING_SUFFIX, TEMPORARY, fetch_one, table_exists

LEDGER_TABLE = "audit.decision_ledger"
BATCHES_TABLE = "audit.ledger_batches"
# A temporary table: rows written to one in the file were compressed and written twice (see replace_rows_in_frames).
LEDGER_STAGING = f"{TEMPORARY}.decision_ledger{STAGING_SUFFIX}"


# A batch's rows in the order they were hashed (the ledger is append-only, so its rowid is that order): an
# application's rows tie on the ledger's sort key (a review and its amendment, an outcome and its correction).
LEDGER_ORDER = "batch_seq, rowid"


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists audit")
    columns = ", ".join(f"{name} varchar" for name in LEDGER_COLUMNS)
    con.execute(f"create table if not exists {LEDGER_TABLE} (batch_seq integer not null, {columns})")
    con.execute(
        f"""create table if not exists {BATCHES_TABLE} (
            batch_seq integer primary key, ledger_day varchar, event_type varchar, row_count integer,
            rows_sha256 varchar, previous_digest varchar, digest varchar, run_id varchar, appended_at varchar)"""
    )


def append_batch(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame, ledger_day: str, event_type: str, run_id: str, appended_at: str) -> Batch | None:
    """Append `rows` (in any order) as one batch unless they equal the day's last batch of that event type."""
    ordered = rows.sort_values("application_id", kind="stable") if len(rows) else rows
    return append_batch_in_order(con, [ordered], ledger_day, event_type, run_id, appended_at)


def append_batch_in_order(
    con: duckdb.DuckDBPyConnection,
    frames: Iterable[pd.DataFrame],
    ledger_day: str,
    event_type: str,
    run_id: str,
    appended_at: str,
    same_on_every_row: Mapping[str, object] | None = None,
) -> Batch | None:
    """Append the rows of `frames`, in application_id order, as one batch unless they equal the day's last batch.

    The rows are turned into canonical text, hashed and written to a
    temporary staging table a chunk at a time (a large day never holds all
    its rows or text at once, and DuckDB would hold an open transaction's
    rows in memory). When the digest shows they equal the last batch of the
    day and event type, nothing is appended; otherwise the rows move into
    the ledger together with their batch record, in one transaction.
    Inserting each chunk straight into the ledger inside that transaction,
    without the staging table, was tried on a 1M-row day (2026-12-04): the
    step was slower and took more memory, so the staging stays.

    `same_on_every_row` names ledger columns the frames do not carry, each
    with its one value (run ids, versions). They are hashed as part of every
    row but staged once: they join the rows on the move into the ledger.
    """
    constants = {"event_type": event_type, "ledger_day": ledger_day, **(same_on_every_row or {})}
    if unknown := sorted(set(constants) - set(LEDGER_COLUMNS)):
        raise ValueError(f"not ledger columns: {', '.join(unknown)}")
    constant_texts = {name: canonical_texts(pd.Series([value], dtype="object"))[0] for name, value in constants.items()}
    varying = [c for c in LEDGER_COLUMNS if c not in constants]
    _ensure(con)
    con.execute(f"drop table if exists {LEDGER_STAGING}")
    # keel staged in the warehouse file until 2026-12-01: a run killed then may have left a table there.
    con.execute(f"drop table if exists {LEDGER_TABLE}{STAGING_SUFFIX}")
    con.execute(f"create temp table {LEDGER_STAGING} as select {', '.join(varying)} from {LEDGER_TABLE} limit 0")
    try:
        digest = hashlib.sha256()
        row_count = 0
        labelled = (_with_constants(frame, constants) for frame in frames)
        # The next chunk is read and turned into text while this one is hashed and inserted.
        for texts, lines in read_ahead(canonical_chunks_in_order(labelled)):
            digest.update(lines)
            row_count += texts.num_rows
            con.register("ledger_rows", texts.select(varying))
            try:
                con.execute(f"insert into {LEDGER_STAGING} by name select * from ledger_rows")
            finally:
                con.unregister("ledger_rows")
        return _append_staged(con, digest.hexdigest(), row_count, ledger_day, event_type, run_id, appended_at, constant_texts)
    finally:
        con.execute(f"drop table if exists {LEDGER_STAGING}")


def _with_constants(frame: pd.DataFrame, constants: Mapping[str, object]) -> pd.DataFrame:
    if clash := sorted(set(frame.columns) & set(constants) - {"event_type", "ledger_day"}):
        raise ValueError(f"columns given both in the rows and as the same on every row: {', '.join(clash)}")
    return frame.assign(**{name: constant_column(value, len(frame)) for name, value in constants.items()})


def _append_staged(
    con, rows_digest: str, row_count: int, ledger_day: str, event_type: str, run_id: str, appended_at: str, constant_texts: Mapping[str, str]
) -> Batch | None:
    con.execute("begin transaction")
    try:
        last_same = fetch_one(
            con,
            f"select rows_sha256 from {BATCHES_TABLE} where ledger_day = ? and event_type = ? order by batch_seq desc limit 1",
            [ledger_day, event_type],
        )
        if last_same and last_same[0] == rows_digest:
            con.execute("rollback")
            return None
        last = fetch_one(con, f"select batch_seq, ledger_day, row_count, rows_sha256, previous_digest, digest from {BATCHES_TABLE} order by batch_seq desc limit 1")
        batch = next_batch(None, ledger_day, Batch(*last) if last else None, rows_digest, row_count)
        constants = "".join(f", cast(? as varchar) as {name}" for name in constant_texts)
        con.execute(
            f"insert into {LEDGER_TABLE} by name select cast(? as integer) as batch_seq{constants}, * from {LEDGER_STAGING}",
            [batch.batch_seq, *constant_texts.values()],
        )
        con.execute(
            f"insert into {BATCHES_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [batch.batch_seq, ledger_day, event_type, batch.row_count, batch.rows_sha256, batch.previous_digest, batch.digest, run_id, appended_at],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return batch


def verify(con: duckdb.DuckDBPyConnection, progress: Callable[[int, int], None] = lambda _done, _all: None) -> ChainReport:
    """The hash chain recomputed a batch at a time (a year of million-row days is never read at once).

    Rows of a batch no batch record chains are a break too: nothing may sit
    in the ledger unchained. `progress` is told (batches checked, batches).
    """
    if not table_exists(con, "audit", "ledger_batches"):
        return ChainReport(True, 0)
    batches = con.execute(f"select * from {BATCHES_TABLE} order by batch_seq").df()
    report = verify_batches(
        batches, lambda seq: con.execute(f"select * from {LEDGER_TABLE} where batch_seq = ? order by {LEDGER_ORDER}", [seq]).df(), progress
    )
    unchained = con.execute(
        f"select batch_seq, min(ledger_day), count(*) from {LEDGER_TABLE} "
        f"where batch_seq not in (select batch_seq from {BATCHES_TABLE}) group by batch_seq order by batch_seq limit 1"
    ).fetchone()
    if report.ok and unchained is not None:
        seq, day, count = unchained
        return ChainReport(False, report.batches_checked, str(day), int(seq), f"{count} ledger rows name batch {seq}, which no batch record chains")
    return report


def current_rows(con: duckdb.DuckDBPyConnection, event_type: str, ledger_day: str | None = None) -> pd.DataFrame:
    """The latest batch's rows per (day, event type): the ledger as it stands."""
    if not table_exists(con, "audit", "ledger_batches"):
        return pd.DataFrame(columns=list(LEDGER_COLUMNS))
    where = "and b.ledger_day = ?" if ledger_day else ""
    params = [event_type] + ([ledger_day] if ledger_day else [])
    return con.execute(
        f"""
        with latest as (
            select ledger_day, max(batch_seq) as batch_seq from {BATCHES_TABLE}
            where event_type = ? group by ledger_day
        )
        select l.* from {LEDGER_TABLE} l join latest b using (batch_seq) where 1=1 {where}
        order by l.application_id, l.rowid
        """,
        params,
    ).df()
