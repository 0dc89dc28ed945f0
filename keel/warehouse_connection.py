"""Opening the warehouse: DuckDB alone, for the code that only reads a few rows.

keel.warehouse re-exports all of this with the reads and writes of frames,
which bring in pandas, NumPy and pyarrow. A sensor whose tick opens the
warehouse (review_sla_sensor) imports this module instead, so that its first
tick in a code server does not wait for those libraries (its first tick
0.49 s -> 0.11-0.17 s in `keel bench-overhead` on 2026-12-07).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
LOCK_WAIT_SECONDS = 120.0
# DuckDB's catalog of a connection's temporary tables: `temp.<table>` names one, `create temp table` makes one.
TEMPORARY = "temp"
# How much memory DuckDB may use before it works out of core (spilling to
# <warehouse>.tmp): a size such as 2GB or 1.5GiB, or a share of RAM such as 40%.
# The same variable reaches dbt's connection through profiles.yml.
MEMORY_LIMIT_ENV = "KEEL_DUCKDB_MEMORY_LIMIT"
_MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB|%)$", re.IGNORECASE)


class WarehouseBusy(RuntimeError):
    """The warehouse stayed locked by another process for too long."""


def memory_limit() -> str | None:
    """The DuckDB memory limit from KEEL_DUCKDB_MEMORY_LIMIT, validated; None when unset (DuckDB's default)."""
    value = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if not value:
        return None
    if not _MEMORY_LIMIT.match(value):
        raise ValueError(f"{MEMORY_LIMIT_ENV}: expected a size such as 2GB, 1.5GiB or 40%, found {value!r}")
    return value


def safe_identifier(name: str) -> str:
    """Validate a schema/table/column name before it reaches a SQL string."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a safe SQL identifier: {name!r} (expected lower-case letters, digits and _)")
    return name


def _is_lock_error(error: Exception) -> bool:
    text = str(error).lower()
    return "lock" in text or "conflicting" in text or "being used by another process" in text


@contextmanager
def connect(path: Path, read_only: bool = False, wait_seconds: float = LOCK_WAIT_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, waiting while another process holds its lock."""
    path = Path(path)
    if read_only and not path.exists():
        raise FileNotFoundError(f"{path}: no warehouse yet; land a day and run it first (keel land / keel run)")
    path.parent.mkdir(parents=True, exist_ok=True)
    limit = memory_limit()
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as error:
            if not _is_lock_error(error) or time.monotonic() > deadline:
                if _is_lock_error(error):
                    raise WarehouseBusy(f"{path}: still locked by another process after {wait_seconds:.0f}s") from error
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    try:
        if limit is not None:
            # SET, not connect(config=...): DuckDB refuses a second connection to the
            # file with another configuration (dbt's, in an in-process run).
            con.execute(f"set memory_limit = '{limit}'")
        yield con
    finally:
        con.close()


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """The first row of a query, with the result fully consumed.

    DuckDB 2 refuses further work on a connection whose last result was only
    partly fetched, so never leave a fetchone() behind.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether schema.table exists (schema TEMPORARY: the connection's temporary table)."""
    where, params = _information_schema_where(schema, table)
    found = fetch_one(con, f"select count(*) from information_schema.tables where {where}", params)
    return bool(found and found[0])


def _information_schema_where(schema: str, table: str) -> tuple[str, list[str]]:
    """The condition naming schema.table in information_schema; a temporary table is in schema main of catalog temp."""
    if schema == TEMPORARY:
        return "table_catalog = 'temp' and table_schema = 'main' and table_name = ?", [table]
    return "table_schema = ? and table_name = ?", [schema, table]
