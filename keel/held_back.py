"""The rows a source delivered that keel holds back: quarantined by the contract and not taken in since.

An application held back has no decision: a customer waits until the
source sends its row again (a corrected file for the day, which the landing
sensor takes in and decides again; the ledger keeps both). An outcome held
back is a label monitoring does not have. A quarantine record whose key has
been taken in from another delivery (the row's id repeated on another day,
where the row stored first stands, or an outcome corrected in a later file)
holds nothing back. An outcome is taken in only by a delivery of its key on
its own day or later: the latest outcome counts, so one taken in before it
does not stand for a correction the contract held back. Rows without a
usable key are held back until the day's file is replaced, since nothing
else can take them in.

`keel quarantine` lists what is held back and exports a day's rows as they
were received, each with its problems, for the source to correct; `keel
status` raises the rows held back on the last week's days.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from keel import warehouse as wh
from keel.landing_zone import SOURCES

# Columns `export_rows` adds to the rows as received: where each came from and why it was held back.
ROW_NUMBER_COLUMN = "keel_row_number"
PROBLEMS_COLUMN = "keel_problems"

# Sources whose later delivery of a key supersedes the earlier one (an outcome corrected); an application's first stands.
LATEST_DELIVERY_COUNTS = frozenset({"outcomes"})

_DAY = "left(cast({alias}.partition_date as varchar), 10)"

RECORD_COLUMNS = ("day", "source_file", "source_sha256", "row_number", "application_id", "column", "check", "value_found", "reason")


class HeldBackFileError(ValueError):
    """A held-back row's landing file cannot give the row as it was received (gone, or replaced)."""


def _held_back_sql(con, source: str) -> str | None:
    """The held-back quarantine records of `source` (RECORD_COLUMNS); None when the home has no quarantine for it."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    if not wh.table_exists(con, "raw", f"{source}_quarantine"):
        return None
    # A quarantine older than the key column is matched on nothing: every record is held back.
    key = "q.application_id" if "application_id" in wh.table_columns(con, "raw", f"{source}_quarantine") else "cast(null as varchar)"
    since = f" and {_DAY.format(alias='r')} >= {_DAY.format(alias='q')}" if source in LATEST_DELIVERY_COUNTS else ""
    taken_in = f"exists (select 1 from raw.{source} r where r.application_id = {key}{since})" if wh.table_exists(con, "raw", source) else "false"
    return f"""
        select {_DAY.format(alias='q')} as day, q.source_file, q.source_sha256, q.row_number, {key} as application_id,
               q."column", q."check", q.value_found, q.reason
        from raw.{source}_quarantine q
        where not (coalesce({key}, '') <> '' and {taken_in})
    """


def held_back_records(con, source: str, day: str | None = None, rows: int | None = None) -> pd.DataFrame:
    """One record per problem of each held-back row of `source` (of `day`, or every day; the first `rows` rows, or all),
    by day, file and row."""
    sql = _held_back_sql(con, source)
    if sql is None:
        return pd.DataFrame(columns=list(RECORD_COLUMNS))
    where, params = ("where day = $day", {"day": day}) if day else ("", {})
    held = f"select * from ({sql}) {where}"
    if rows is not None:
        # The first rows' keys, then their records: a window over every record held a refused 1M-row day's reasons in memory.
        held = f"""with held as not materialized ({held}),
                   first_rows as (select day, source_file, row_number from held group by all order by all limit $rows)
                   select held.* from held semi join first_rows using (day, source_file, row_number)"""
        params["rows"] = rows
    return con.execute(f'select * from ({held}) order by day, source_file, row_number, "column", "check"', params).df()


def held_back_by_day(con, source: str) -> list[dict]:
    """Per day and file of `source`: the rows held back and how many rows each check held back, oldest day first."""
    sql = _held_back_sql(con, source)
    if sql is None:
        return []
    # Counted in DuckDB: a refused file holds back every row of its day, a million at 1M.
    files = con.execute(
        f"select day, source_file, any_value(source_sha256), count(distinct row_number) from ({sql}) group by 1, 2 order by 1, 2"
    ).fetchall()
    by_check: dict[tuple, dict[str, int]] = {}
    for day, source_file, check, rows in con.execute(
        f'select day, source_file, "check", count(distinct row_number) from ({sql}) group by 1, 2, 3 order by 1, 2, 3'
    ).fetchall():
        by_check.setdefault((day, source_file), {})[check] = int(rows)
    return [
        {
            "source": source,
            "date": day,
            "source_file": source_file,
            "source_sha256": sha256,
            "rows": int(held),
            "rows_by_check": by_check.get((day, source_file), {}),
        }
        for day, source_file, sha256, held in files
    ]


def rows_with_problems(records: pd.DataFrame) -> list[dict]:
    """`records` (one per problem) as one entry per row: where it came from, its key, and each problem."""
    rows: dict[tuple, dict] = {}
    for record in records.itertuples(index=False):
        key = (record.day, record.source_file, int(record.row_number))
        row = rows.setdefault(
            key,
            {
                "date": record.day,
                "source_file": record.source_file,
                "source_sha256": record.source_sha256,
                "row_number": int(record.row_number),
                "application_id": record.application_id if isinstance(record.application_id, str) and record.application_id else None,
                "problems": [],
            },
        )
        row["problems"].append(
            {"column": record.column, "check": record.check, "value_found": record.value_found, "reason": record.reason}
        )
    return list(rows.values())


def received_rows(landing, source_file: str, sha256s: list[str]) -> pd.DataFrame:
    """The rows of `landing` (the file `source_file` as read now) as it delivered them, each with its row number.

    `sha256s` are the sha256s the quarantine recorded for the file: one that
    is not the file's now means the file was replaced since, and its rows are
    not the ones held back. The reader's marks on damaged rows are dropped.
    """
    from keel.landing.row_problems import PROBLEM_COLUMNS

    if set(sha256s) != {landing.sha256}:
        raise HeldBackFileError(
            f"{landing.path}: its sha256 is {landing.sha256}, not {', '.join(sorted(sha256s))} that the held-back rows came from: "
            "the file was replaced since; run the day again (`keel run --date D`) to judge the new one"
        )
    if clash := sorted({ROW_NUMBER_COLUMN, PROBLEMS_COLUMN, _SOURCE_FILE} & set(landing.frame.columns)):
        raise HeldBackFileError(f"{landing.path}: has a column named {', '.join(clash)}, which the export adds")
    received = landing.frame.drop(columns=[c for c in PROBLEM_COLUMNS if c in landing.frame.columns])
    numbers = received.index.to_numpy(dtype="int64")
    received = received.reset_index(drop=True)
    received.insert(0, ROW_NUMBER_COLUMN, numbers)
    received[_SOURCE_FILE] = source_file
    return received


# The held-back rows of a day with their problems in one cell each, as `rows_with_problems` orders them.
_ROW_PROBLEMS_SQL = """
select source_file, row_number,
       string_agg(concat(coalesce(nullif("column", ''), 'row'), ' (', "check", '): ', reason), '; ' order by "column", "check") as problems
from ({held_back}) where day = $day
group by source_file, row_number
"""
_SOURCE_FILE = "keel_source_file"  # joins the received rows to the quarantine's; not written


def write_rows(con, held_back_sql: str, day: str, received: pd.DataFrame, out: Path) -> None:
    """Write the `received` rows (of `received_rows`) that `held_back_sql` holds back on `day`, each with its problems, as CSV to `out`.

    DuckDB joins and writes them as it goes: a refused 1M-row day is a
    million rows of long reasons, which as a Python object per row and
    problem took 26.7-33.7 s and 4.2-4.7 GB. Values are quoted only where CSV needs it
    (and an empty text, to tell it from a missing value); the file appears
    whole or not at all.
    """
    problems = _ROW_PROBLEMS_SQL.format(held_back=held_back_sql)
    con.register("keel_received", received)
    try:
        missing = wh.fetch_one(
            con,
            f"""select p.source_file, list(p.row_number order by p.row_number)[1:10] from ({problems}) p
                anti join keel_received r on r.{_SOURCE_FILE} = p.source_file and r.{ROW_NUMBER_COLUMN} = p.row_number
                group by 1 order by 1 limit 1""",
            {"day": day},
        )
        if missing:
            raise HeldBackFileError(f"{missing[0]}: rows {missing[1]} are not in the file, though the quarantine names them")
        rows = con.sql(
            f"""select r.* exclude ({_SOURCE_FILE}), p.problems as {PROBLEMS_COLUMN}
                from keel_received r join ({problems}) p on r.{_SOURCE_FILE} = p.source_file and r.{ROW_NUMBER_COLUMN} = p.row_number
                order by p.source_file, p.row_number""",
            params={"day": day},
        )
        rows.write_csv(str(out), header=True, use_tmp_file=True)
    finally:
        con.unregister("keel_received")


def landing_path(home, source: str, source_file: str) -> Path:
    """Where the landing file a quarantine record names is (its name checked as the landing sensor checks it)."""
    from keel.landing.names import parse_landing_name

    named_source, _day, _fmt = parse_landing_name(source_file)
    if named_source != source or Path(source_file).name != source_file:
        raise HeldBackFileError(f"{source_file!r} is not a landing file name of source {source}")
    return home.landing_dir(source) / source_file


@dataclass(frozen=True)
class Export:
    path: Path
    rows: int
    files: list[str]


def write_export(home, con, source: str, day: str, out: Path) -> Export:
    """Write `day`'s held-back rows of `source`, as received and each with its problems, to the CSV `out`."""
    from keel.landing.read import read_landing_file

    held_back = _held_back_sql(con, source)
    files = (
        con.execute(
            f"select source_file, list(distinct source_sha256 order by source_sha256), count(distinct row_number) "
            f"from ({held_back}) where day = ? group by 1 order by 1",
            [day],
        ).fetchall()
        if held_back
        else []
    )
    received = []
    for source_file, sha256s, _rows in files:
        path = landing_path(home, source, source_file)
        if not path.exists():
            raise HeldBackFileError(f"{path}: the file the held-back rows of {day} came from is gone from the landing folder")
        received.append(received_rows(read_landing_file(path), source_file, sha256s))
    out.parent.mkdir(parents=True, exist_ok=True)
    if received:
        write_rows(con, held_back, day, pd.concat(received, ignore_index=True) if len(received) > 1 else received[0], out)
    else:
        out.write_text(f"{ROW_NUMBER_COLUMN},{PROBLEMS_COLUMN}\n")
    return Export(path=out, rows=sum(int(rows) for _file, _sha, rows in files), files=[source_file for source_file, _sha, _rows in files])
