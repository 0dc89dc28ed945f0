"""The data plane: one DuckDB file, opened briefly by one writer at a time.

Dagster's `warehouse` pool keeps pipeline steps from overlapping; the retry
in `connect` (keel.warehouse_connection, re-exported here) covers the CLI
reading while a step holds the file for a moment.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from keel.warehouse_connection import (  # re-exported: the rest of keel opens the warehouse through this module
    LOCK_WAIT_SECONDS,
    MEMORY_LIMIT_ENV,
    TEMPORARY,
    WarehouseBusy,
    _information_schema_where,
    connect,
    fetch_one,
    memory_limit,
    safe_identifier,
    table_exists,
)

# The name rows being written go by while they are checked against the table (a registered frame or a view).
INCOMING = "incoming_rows"
# The temporary table replace_rows_from_query computes a query's rows into.
QUERY_ROWS = "query_rows"
# replace_rows_in_frames stages a large day's frames in temp.<table>__incoming before moving them in.
STAGING_SUFFIX = "__incoming"
# A day the caller expects to hold at most this many rows may be written in
# one transaction rather than staged. DuckDB holds an open transaction's
# appended rows in memory until the commit, while staging copies the day
# once more: for a million-row day's raw applications, ~0.15 GB more against
# ~0.7 s less (keel bench --rows 1000000, raw_applications). The scores,
# decisions and ledger of that day gained no time measurably and took
# 0.17-0.3 GB more each, so they are always staged. (Measured while the
# staging table was in the warehouse file, not a temporary one.)
ONE_TRANSACTION_MAX_ROWS = 1_000_000


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    frame: pd.DataFrame,
    where_column: str,
    values: list[str],
) -> int:
    """Replace the rows of `table` whose day `where_column` is one of `values` (YYYY-MM-DD), atomically.

    A run killed half-way leaves the previous rows intact; a rerun with the
    same frame leaves the table as it was.
    """
    return _write_rows(con, schema, table, frame, safe_identifier(where_column), values)


def replace_rows_from_query(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, sql: str, params: list, where_column: str, values: list[str]
) -> int:
    """replace_rows with the rows of `sql`: computed and stored inside DuckDB, never turned into a frame.

    The table gets the query's column types, as it would the frame's that
    DuckDB gives for the query.
    """
    con.execute(f"create or replace temp table {QUERY_ROWS} as {sql}", params)
    try:
        return _write_rows(con, schema, table, f"temp.main.{QUERY_ROWS}", safe_identifier(where_column), values)
    finally:
        con.execute(f"drop table if exists temp.main.{QUERY_ROWS}")


def append_rows(con: duckdb.DuckDBPyConnection, schema: str, table: str, frame: pd.DataFrame) -> int:
    """Append `frame` to `table` (created from the frame's columns if missing; new columns added), atomically."""
    return _write_rows(con, schema, table, frame)


def replace_rows_in_frames(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    frames: Iterable[pd.DataFrame],
    where_column: str,
    values: list[str],
    expected_rows: int | None = None,
) -> int:
    """replace_rows for rows that arrive a frame at a time (a large day), holding one frame at once.

    A day expected to hold at most ONE_TRANSACTION_MAX_ROWS rows is written
    in one transaction. A larger day, or one of unknown size, is appended to
    a temporary table, a transaction per frame, then moved into `table` in
    one transaction in SQL: DuckDB keeps an open transaction's appended rows
    in memory, outside its memory limit (they grow with every frame of a
    large day), while a move inside DuckDB stays within its memory limit.
    Either way readers of `table` see the old day or the new one, never part
    of it. The staging table is temporary (in memory, spilled to DuckDB's
    temporary directory past its memory limit) because a table in the file
    would have every row compressed and written twice: a million ledger
    rows went into one in ~3 s, into an in-memory database in ~1 s; it goes
    with the connection, so a killed run leaves nothing behind. `frames`
    should yield at least one frame (an empty one for an empty day), so
    that a missing table is created with its columns.
    """
    schema, table, where_column = safe_identifier(schema), safe_identifier(table), safe_identifier(where_column)
    staging = safe_identifier(f"{table}{STAGING_SUFFIX}")
    con.execute(f"drop table if exists {TEMPORARY}.{staging}")
    # keel staged in the warehouse file until 2026-12-01: a run killed then may have left a table there.
    con.execute(f"drop table if exists {schema}.{staging}")
    if expected_rows is not None and expected_rows <= ONE_TRANSACTION_MAX_ROWS:
        return _write_frames(con, schema, table, frames, where_column, values)
    try:
        written = sum(_write_rows(con, TEMPORARY, staging, frame) for frame in frames)
        if not table_exists(con, TEMPORARY, staging):
            return 0
        _write_rows(con, schema, table, f"{TEMPORARY}.{staging}", where_column, values)
    finally:
        con.execute(f"drop table if exists {TEMPORARY}.{staging}")
    return written


def _write_rows(
    con, schema: str, table: str, rows: pd.DataFrame | str, where_column: str | None = None, values: list[str] | None = None
) -> int:
    """Insert `rows` (a frame, or a table already in the warehouse) in one transaction, first deleting the rows of the days `values` when given."""
    if isinstance(rows, pd.DataFrame):
        return _write_frames(con, schema, table, [rows], where_column, values)
    schema, table = safe_identifier(schema), safe_identifier(table)
    _create_schema(con, schema)
    con.execute("begin transaction")
    try:
        con.execute(f"create or replace temp view {INCOMING} as select * from {rows}")
        try:
            written = int(con.execute(f"select count(*) from {INCOMING}").fetchone()[0])
            _insert_incoming(con, schema, table, where_column, values)
        finally:
            con.execute(f"drop view if exists {INCOMING}")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return written


def _write_frames(
    con, schema: str, table: str, frames: Iterable[pd.DataFrame], where_column: str | None = None, values: list[str] | None = None
) -> int:
    """Insert the rows of `frames` in one transaction, first deleting the rows of the days `values`; nothing when there is no frame."""
    schema, table = safe_identifier(schema), safe_identifier(table)
    _create_schema(con, schema)
    con.execute("begin transaction")
    try:
        written = 0
        for number, frame in enumerate(frames):
            con.register(INCOMING, arrow_when_read_alike(frame))
            try:
                # The day's old rows go before the first frame's, in the same transaction.
                _insert_incoming(con, schema, table, where_column if number == 0 else None, values)
            finally:
                con.unregister(INCOMING)
            written += len(frame)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return written


def arrow_when_read_alike(frame: pd.DataFrame) -> pd.DataFrame | pa.Table:
    """`frame` as an Arrow table when DuckDB gives it the same column types that way; else `frame` itself.

    DuckDB inserts from an Arrow table faster than from a DataFrame (a
    million ingested rows, four frames: 2.2-2.9 s -> 1.1-1.5 s), and pandas'
    text, numbers, booleans and datetimes become Arrow columns without a
    copy of their text. A categorical column DuckDB reads from pandas as an
    ENUM and from Arrow as VARCHAR, and an object column holds whatever
    Python values it was given: with either, the frame goes as it is.
    """
    if any(dtype == object or isinstance(dtype, pd.CategoricalDtype) for dtype in frame.dtypes):
        return frame
    return pa.Table.from_pandas(frame, preserve_index=False)


def _create_schema(con, schema: str) -> None:
    if schema != TEMPORARY:  # the temporary catalog's one schema always exists
        con.execute(f"create schema if not exists {schema}")


def _insert_incoming(con, schema: str, table: str, where_column: str | None, values: list[str] | None) -> None:
    """Insert the INCOMING rows into schema.table (created, typed and widened to fit them), first deleting the days `values` when given."""
    qualified = f"{schema}.{table}"
    if not table_exists(con, schema, table):
        temporary = "temp " if schema == TEMPORARY else ""
        con.execute(f"create {temporary}table {qualified} as select * from {INCOMING} limit 0")
    _type_untyped_columns(con, schema, table)
    _add_new_columns(con, schema, table)
    if where_column and values:
        # Partitions are days; a day may be stored as text, date or timestamp.
        placeholders = ", ".join("cast(? as date)" for _ in values)
        con.execute(f"delete from {qualified} where cast({where_column} as date) in ({placeholders})", values)
    con.execute(f"insert into {qualified} by name select * from {INCOMING}")


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """The table's (or view's) column names in their order; empty when it does not exist."""
    where, params = _information_schema_where(schema, table)
    return [row[0] for row in con.execute(f"select column_name from information_schema.columns where {where} order by ordinal_position", params).fetchall()]


def select_columns_sql(schema: str, table: str, columns: list[str]) -> str:
    """`select <columns> from schema.table`, every name checked: for reading only what a step needs."""
    if not columns:
        raise ValueError(f"select from {schema}.{table}: no columns named")
    names = ", ".join(safe_identifier(c) for c in columns)
    return f"select {names} from {safe_identifier(schema)}.{safe_identifier(table)}"


def _add_new_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    """Columns the incoming rows have and the table lacks are added (older rows get NULL), like dbt's append_new_columns."""
    existing = set(table_columns(con, schema, table))
    for name, kind, *_ in con.execute(f"describe select * from {INCOMING}").fetchall():
        if name not in existing:
            con.execute(f"alter table {schema}.{table} add column {safe_identifier(name)} {kind}")


def _type_untyped_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> None:
    """Give a column created from an all-missing first batch (DuckDB type NULL) the type the incoming rows have.

    A figure that cannot be computed on the first day (a ROC AUC before any
    outcome has landed) arrives as all None; the table's column then has no
    type and no later value fits in it.
    """
    where, params = _information_schema_where(schema, table)
    untyped = con.execute(f"select column_name from information_schema.columns where {where} and data_type = '\"NULL\"'", params).fetchall()
    if not untyped:
        return
    incoming = {name: kind for name, kind, *_ in con.execute(f"describe select * from {INCOMING}").fetchall()}
    for (column,) in untyped:
        kind = incoming.get(column)
        if kind and kind != '"NULL"':
            con.execute(f"alter table {schema}.{table} alter column {safe_identifier(column)} type {kind}")


# Text as pandas' default string dtype (Arrow-backed, NaN for missing): what `.df()` gives.
_ARROW_TO_PANDAS = {
    pa.string(): pd.StringDtype("pyarrow", na_value=np.nan),
    pa.large_string(): pd.StringDtype("pyarrow", na_value=np.nan),
}

_NULLABLE_INTEGERS = {
    pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(), pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype(),
}


def query_frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    """The result of `sql` as a DataFrame with the dtypes DuckDB's `.df()` gives, three to four times faster.

    `.df()` builds a Python object per text cell and pandas then converts
    them to its Arrow-backed strings (~2 s per million rows of a day); going
    through Arrow hands the text over without that. Dates come back as
    datetime64[us], as `.df()` gives them.
    """
    return _frame_from_arrow(con.sql(sql, params=params or None).to_arrow_table())


def query_frames(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None, rows_per_frame: int = 500_000) -> Iterator[pd.DataFrame]:
    """The result of `sql` a frame of at most `rows_per_frame` rows at a time (one empty frame for no rows), with query_frame's dtypes.

    For results too large to hold at once: DuckDB streams the rows (sorting
    out of core if it must). Run other statements on another cursor while
    iterating: a new statement on `con` ends the stream.
    """
    reader = con.sql(sql, params=params or None).to_arrow_reader(rows_per_frame)
    empty = True
    for batch in reader:
        empty = False
        yield _frame_from_arrow(pa.Table.from_batches([batch]))
    if empty:  # one empty frame, so that the columns are known
        yield _frame_from_arrow(reader.schema.empty_table())


def _frame_from_arrow(table: pa.Table) -> pd.DataFrame:
    for index, field in enumerate(table.schema):
        if pa.types.is_date(field.type):
            table = table.set_column(index, field.name, pc.cast(table.column(index), pa.timestamp("us")))
    frame = table.to_pandas(types_mapper=_ARROW_TO_PANDAS.get, coerce_temporal_nanoseconds=False)
    # Integers with missing values: pandas' nullable integers, as `.df()` gives them (not float64).
    for field in table.schema:
        if field.type in _NULLABLE_INTEGERS and table.column(field.name).null_count:
            frame[field.name] = table.select([field.name]).to_pandas(types_mapper={field.type: _NULLABLE_INTEGERS[field.type]}.get)[field.name]
    return frame
