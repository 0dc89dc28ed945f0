import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from keel import warehouse


def test_replace_rows_replaces_one_partition_and_is_idempotent(tmp_path):
    path = tmp_path / "w.duckdb"
    day1 = pd.DataFrame({"partition_date": ["2026-01-01"] * 2, "v": [1, 2]})
    day2 = pd.DataFrame({"partition_date": ["2026-01-02"], "v": [3]})
    with warehouse.connect(path) as con:
        warehouse.replace_rows(con, "raw", "t", day1, "partition_date", ["2026-01-01"])
        warehouse.replace_rows(con, "raw", "t", day2, "partition_date", ["2026-01-02"])
        warehouse.replace_rows(con, "raw", "t", day1, "partition_date", ["2026-01-01"])
        rows = con.execute("select partition_date, v from raw.t order by v").fetchall()
    assert rows == [("2026-01-01", 1), ("2026-01-01", 2), ("2026-01-02", 3)]


def test_a_failed_replace_leaves_the_previous_rows(tmp_path):
    path = tmp_path / "w.duckdb"
    good = pd.DataFrame({"partition_date": ["2026-01-01"], "v": [1]})
    bad = pd.DataFrame({"partition_date": ["2026-01-01"], "v": ["not a number"], "added": [2]})
    with warehouse.connect(path) as con:
        warehouse.replace_rows(con, "raw", "t", good, "partition_date", ["2026-01-01"])
        with pytest.raises(Exception):
            warehouse.replace_rows(con, "raw", "t", bad, "partition_date", ["2026-01-01"])
        assert con.execute("select v from raw.t").fetchall() == [(1,)]
        assert [c[0] for c in con.execute("describe raw.t").fetchall()] == ["partition_date", "v"], "the failed batch's new column is rolled back too"


def test_new_columns_are_added_and_older_rows_get_null(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.replace_rows(con, "raw", "t", pd.DataFrame({"partition_date": ["2026-01-01"], "v": [1]}), "partition_date", ["2026-01-01"])
        warehouse.replace_rows(con, "raw", "t", pd.DataFrame({"partition_date": ["2026-01-02"], "v": [2], "w": [0.5]}), "partition_date", ["2026-01-02"])
        assert con.execute("select v, w from raw.t order by v").fetchall() == [(1, None), (2, 0.5)]


@pytest.mark.parametrize("name", ["raw; drop table x", "Raw", "1abc", "a-b", ""])
def test_unsafe_identifiers_never_reach_sql(name):
    with pytest.raises(ValueError, match="identifier"):
        warehouse.safe_identifier(name)


def test_reading_a_missing_warehouse_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="keel land"):
        with warehouse.connect(tmp_path / "none.duckdb", read_only=True):
            pass


def test_replace_rows_matches_days_stored_as_timestamps(tmp_path):
    day = pd.DataFrame({"application_date": pd.to_datetime(["2026-01-01", "2026-01-01"]), "v": [1, 2]})
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.replace_rows(con, "d", "scores", day, "application_date", ["2026-01-01"])
        warehouse.replace_rows(con, "d", "scores", day, "application_date", ["2026-01-01"])
        assert warehouse.fetch_one(con, "select count(*) from d.scores")[0] == 2


def test_a_column_first_stored_all_missing_takes_the_type_of_later_figures(tmp_path):
    import duckdb
    import pandas as pd

    from keel import warehouse as wh

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    wh.replace_rows(con, "monitoring", "figures", pd.DataFrame({"day": ["2026-01-01"], "roc_auc": [None]}), "day", ["2026-01-01"])
    wh.replace_rows(con, "monitoring", "figures", pd.DataFrame({"day": ["2026-01-02"], "roc_auc": [0.81]}), "day", ["2026-01-02"])
    assert dict((name, kind) for name, kind, *_ in con.execute("describe monitoring.figures").fetchall())["roc_auc"] == "DOUBLE"
    assert con.execute("select roc_auc from monitoring.figures order by day").fetchall() == [(None,), (0.81,)]


def test_append_rows_creates_then_appends_and_keeps_earlier_rows(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.append_rows(con, "review", "events", pd.DataFrame({"seq": [1], "who": ["ana"]}))
        warehouse.append_rows(con, "review", "events", pd.DataFrame({"seq": [2], "who": ["ben"], "why": ["late"]}))
        assert con.execute("select seq, who, why from review.events order by seq").fetchall() == [(1, "ana", None), (2, "ben", "late")]


def test_the_memory_limit_from_the_environment_reaches_every_connection(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    with warehouse.connect(path) as con:
        default = con.execute("select current_setting('memory_limit')").fetchone()[0]
    monkeypatch.setenv(warehouse.MEMORY_LIMIT_ENV, "256MB")
    with warehouse.connect(path) as con:
        limited = con.execute("select current_setting('memory_limit')").fetchone()[0]
    with warehouse.connect(path, read_only=True) as con:
        limited_read = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert limited == limited_read != default
    assert limited.startswith("244") or limited.startswith("256"), f"DuckDB reports 256MB as {limited}"


@pytest.mark.parametrize("value", ["lots", "2GB; drop table raw.t", "-1GB", "GB"])
def test_a_malformed_memory_limit_is_refused_naming_the_variable(tmp_path, monkeypatch, value):
    monkeypatch.setenv(warehouse.MEMORY_LIMIT_ENV, value)
    with pytest.raises(ValueError, match=f"{warehouse.MEMORY_LIMIT_ENV}: expected a size.*found"):
        with warehouse.connect(tmp_path / "w.duckdb"):
            pass
    assert not (tmp_path / "w.duckdb").exists(), "refused before the file is opened"


def test_a_step_reads_only_the_columns_it_names_in_table_order(tmp_path):
    day = pd.DataFrame({"application_id": ["A1", "A2"], "age": [30, 40], "raw_row_hash": ["f" * 64, "e" * 64]})
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.replace_rows(con, "marts", "features", day.assign(partition_date="2026-01-01"), "partition_date", ["2026-01-01"])
        assert warehouse.table_columns(con, "marts", "features") == ["application_id", "age", "raw_row_hash", "partition_date"]
        assert warehouse.table_columns(con, "marts", "absent") == []
        sql = warehouse.select_columns_sql("marts", "features", ["application_id", "age"]) + " order by application_id"
        assert warehouse.query_frame(con, sql).columns.tolist() == ["application_id", "age"]
    with pytest.raises(ValueError, match="not a safe SQL identifier"):
        warehouse.select_columns_sql("marts", "features", ["age; drop table marts.features"])
    with pytest.raises(ValueError, match="no columns named"):
        warehouse.select_columns_sql("marts", "features", [])


def _day(day: str, values: list, **columns) -> pd.DataFrame:
    return pd.DataFrame({"partition_date": [day] * len(values), "v": values, **columns})


def _tables(con) -> list[str]:
    return [row[0] for row in con.execute("select table_name from information_schema.tables where table_schema = 'raw' order by 1").fetchall()]


def _temporary_tables(con) -> list[str]:
    return [row[0] for row in con.execute("select table_name from information_schema.tables where table_catalog = 'temp' order by 1").fetchall()]


# A day of unknown size is staged; one expected to be small is written in one transaction.
WRITE_PATHS = pytest.mark.parametrize("expected_rows", [None, 3], ids=["staged", "one_transaction"])


@WRITE_PATHS
def test_frames_replace_the_day_and_leave_no_staging_table(tmp_path, expected_rows):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.replace_rows(con, "raw", "t", pd.concat([_day("2026-01-01", [1]), _day("2026-01-02", [9, 9])]), "partition_date", ["2026-01-01", "2026-01-02"])
        frames = [_day("2026-01-02", [2, 3]), _day("2026-01-02", [4])]
        for _ in range(2):  # a rerun leaves one copy
            assert warehouse.replace_rows_in_frames(con, "raw", "t", iter(frames), "partition_date", ["2026-01-02"], expected_rows=expected_rows) == 3
            assert con.execute("select partition_date, v from raw.t order by v").fetchall() == [
                ("2026-01-01", 1), ("2026-01-02", 2), ("2026-01-02", 3), ("2026-01-02", 4),
            ]  # fmt: skip
        assert _tables(con) == ["t"]
        assert _temporary_tables(con) == []
        # A later frame may bring a column, or the first typed value of a column that began all missing.
        later = [_day("2026-01-03", [5], note=[None]), _day("2026-01-03", [6], note=["late"], extra=[1.5])]
        warehouse.replace_rows_in_frames(con, "raw", "t", later, "partition_date", ["2026-01-03"], expected_rows=expected_rows)
        assert con.execute("select v, note, extra from raw.t where v >= 5 order by v").fetchall() == [(5, None, None), (6, "late", 1.5)]


@pytest.mark.parametrize(
    ("expected_rows", "staged"),
    [(None, True), (3, False), (warehouse.ONE_TRANSACTION_MAX_ROWS, False), (warehouse.ONE_TRANSACTION_MAX_ROWS + 1, True)],
)
def test_a_day_is_staged_only_when_larger_than_one_transaction_should_hold_or_of_unknown_size(tmp_path, expected_rows, staged):
    staging_seen = []
    with warehouse.connect(tmp_path / "w.duckdb") as con:

        def frames():
            for values in ([2, 3], [4]):
                yield _day("2026-01-02", values)
                staging_seen.append("t__incoming" in _temporary_tables(con))

        assert warehouse.replace_rows_in_frames(con, "raw", "t", frames(), "partition_date", ["2026-01-02"], expected_rows=expected_rows) == 3
        assert staging_seen == [staged, staged]
        assert con.execute("select v from raw.t order by v").fetchall() == [(2,), (3,), (4,)]


@WRITE_PATHS
def test_a_stream_that_fails_half_way_leaves_the_day_as_it_was(tmp_path, expected_rows):
    def failing():
        yield _day("2026-01-01", [2])
        raise RuntimeError("the scoring step died")

    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.replace_rows(con, "raw", "t", _day("2026-01-01", [1]), "partition_date", ["2026-01-01"])
        with pytest.raises(RuntimeError, match="scoring step died"):
            warehouse.replace_rows_in_frames(con, "raw", "t", failing(), "partition_date", ["2026-01-01"], expected_rows=expected_rows)
        assert con.execute("select v from raw.t").fetchall() == [(1,)]
        assert _tables(con) == ["t"] and _temporary_tables(con) == [], "the staging table is dropped"
        # A staging table left in the file by a killed run of an earlier keel is dropped by the next write; no frames change nothing.
        con.execute("create table raw.t__incoming as select 99 as v, '2026-01-01' as partition_date")
        assert warehouse.replace_rows_in_frames(con, "raw", "t", [], "partition_date", ["2026-01-01"], expected_rows=expected_rows) == 0
        assert con.execute("select v from raw.t").fetchall() == [(1,)] and _tables(con) == ["t"]


def test_replace_rows_from_query_replaces_the_day_inside_duckdb(tmp_path):
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        con.execute("create table src as select * from (values ('2026-01-01', 1), ('2026-01-01', 2), ('2026-01-02', 3)) t(partition_date, v)")
        query = "select partition_date, v * ? as v from src where partition_date = ? order by v"
        assert warehouse.replace_rows_from_query(con, "raw", "t", query, [10, "2026-01-02"], "partition_date", ["2026-01-02"]) == 1
        assert warehouse.replace_rows_from_query(con, "raw", "t", query, [10, "2026-01-01"], "partition_date", ["2026-01-01"]) == 2
        assert warehouse.replace_rows_from_query(con, "raw", "t", query, [100, "2026-01-01"], "partition_date", ["2026-01-01"]) == 2
        assert con.execute("select partition_date, v from raw.t order by v").fetchall() == [("2026-01-02", 30), ("2026-01-01", 100), ("2026-01-01", 200)]
        with pytest.raises(Exception):
            warehouse.replace_rows_from_query(con, "raw", "t", "select partition_date, cast('x' || v as integer) as v from src", [], "partition_date", ["2026-01-01"])
        assert con.execute("select count(*) from raw.t").fetchall() == [(3,)], "a failed query leaves the rows as they were"
        assert con.execute("select count(*) from duckdb_tables() where temporary").fetchall() == [(0,)]


def _frame_of_every_kind() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "partition_date": ["2026-01-01"] * 3,
            "whole": np.arange(3, dtype="int64"),
            "narrow": np.arange(3, dtype="int32"),
            "share": [0.5, np.nan, 1.0],
            "flag": [True, False, True],
            "seen_at": pd.to_datetime(["2026-01-01 10:00", None, "2026-01-01 11:00"]).astype("datetime64[us]"),
            "seen_at_utc": pd.to_datetime(["2026-01-01 10:00", None, "2026-01-01 11:00"], utc=True),
            "text": pd.Series(["a", None, "c"], dtype="str"),
            "count": pd.Series([1, None, 3], dtype="Int64"),
        }
    )


@pytest.mark.parametrize(
    "odd_column",
    [None, pd.Series(["x", "y", "x"], dtype="category"), pd.Series([dt.date(2026, 1, 1), None, "not a date"], dtype=object)],
    ids=["arrow", "category", "object"],
)
def test_frames_are_stored_with_the_types_and_values_duckdb_gives_a_dataframe(tmp_path, odd_column):
    frame = _frame_of_every_kind() if odd_column is None else _frame_of_every_kind().assign(odd=odd_column)
    handed = warehouse.arrow_when_read_alike(frame)
    assert isinstance(handed, pa.Table) == (odd_column is None), "an Arrow table exactly when DuckDB reads the frame alike"
    with warehouse.connect(tmp_path / "w.duckdb") as con:
        warehouse.replace_rows_in_frames(con, "raw", "kinds", [frame], "partition_date", ["2026-01-01"], expected_rows=3)
        con.execute("create table raw.from_pandas as select * from frame")  # DuckDB's own reading of the DataFrame
        stored, expected = ([tuple(r) for r in con.execute(f"describe raw.{t}").fetchall()] for t in ("kinds", "from_pandas"))
        assert stored == expected
        assert con.execute("select * from raw.kinds").fetchall() == con.execute("select * from raw.from_pandas").fetchall()
