"""query_frame reads through Arrow but gives exactly what DuckDB's .df() gives."""

from __future__ import annotations

import duckdb
import pandas as pd

from keel.warehouse import query_frame, query_frames

TABLE = """
create table t as select * from (values
    ('A1', date '2026-01-01', timestamp '2026-01-01 06:00:00', timestamptz '2026-01-01 06:00:00+00', 1, 2::bigint, null::integer, 0.25, true, '["R1", "R2"]', null::varchar),
    ('A2', date '2026-01-02', timestamp '2026-01-02 06:00:00', timestamptz '2026-01-02 07:30:00+00', 2, null::bigint, 3, null::double, false, 'x', 'ü')
) as v(application_id, application_date, queued_at, reviewed_at, n32, n64_nullable, n32_nullable, score, flag, reason_codes, note)
"""


def test_dtypes_and_values_match_duckdbs_own_conversion():
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    con.execute(TABLE)
    sql = "select * from t where application_date >= cast(? as date) order by application_id"
    expected = con.execute(sql, ["2026-01-01"]).df()
    found = query_frame(con, sql, ["2026-01-01"])
    assert found.dtypes.to_dict() == expected.dtypes.to_dict()
    pd.testing.assert_frame_equal(found, expected)


def test_a_query_without_parameters_and_an_empty_result():
    con = duckdb.connect()
    con.execute(TABLE)
    empty = query_frame(con, "select * from t where false")
    assert list(empty.columns) == list(con.execute("select * from t where false").df().columns) and empty.empty


def test_frames_of_a_streamed_result_stack_up_to_the_whole_result():
    con = duckdb.connect()
    con.execute("create table big as select 'A' || lpad(i::varchar, 6, '0') as application_id, i * 0.5 as score, date '2026-01-01' as day from range(2500) r(i)")
    sql = "select * from big where score >= ? order by application_id"
    frames = list(query_frames(con.cursor(), sql, [10.0], rows_per_frame=1000))
    assert len(frames) >= 3 and all(0 < len(f) <= 1000 for f in frames)
    whole = query_frame(con, sql, [10.0])
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), whole)
