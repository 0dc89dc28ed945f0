"""The labelled training set on a real DuckDB file: one row per application, with its latest outcome."""

import duckdb
import pytest

from keel.models.training_set import write_training_set


@pytest.fixture()
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema marts; create schema staging")
    con.execute(
        "create table marts.application_features as select * from (values "
        "('A1', date '2026-01-01', 1000.0), ('A2', date '2026-01-01', 2000.0), ('A3', date '2026-01-02', 3000.0)) "
        "t(application_id, application_date, income)"
    )
    con.execute(
        "create table staging.stg_outcomes as select * from (values "
        "('A1', date '2026-01-08', 'bad', 1), ('A2', date '2026-01-08', 'good', 0), "
        "('A1', date '2026-01-12', 'good', 0)) t(application_id, outcome_date, repayment_status, is_bad)"
    )
    yield con
    con.close()


def test_a_corrected_outcome_trains_once_with_its_latest_label(con):
    rows, bad_rate, first_day, last_day = write_training_set(con)
    table = con.execute("select application_id, repayment_status, outcome_date::varchar from model.training_set").fetchall()
    # A3 has no outcome yet; A1's bad of the 8th was corrected to good on the 12th.
    assert table == [("A1", "good", "2026-01-12"), ("A2", "good", "2026-01-08")]
    assert rows == 2 and bad_rate == 0.0
    assert str(first_day) == str(last_day) == "2026-01-01"


def test_rebuilding_replaces_the_table(con):
    write_training_set(con)
    con.execute("insert into staging.stg_outcomes values ('A3', date '2026-01-09', 'bad', 1)")
    rows, bad_rate, _, last_day = write_training_set(con)
    assert rows == 3 and bad_rate == pytest.approx(1 / 3) and str(last_day) == "2026-01-02"
