"""Outcomes that name no received application, and outcomes that correct an earlier one, on a real DuckDB file."""

import duckdb
import pytest

from keel.outcome_links import SHOWN_UNLINKED, outcome_links


def _outcome(application_id: str, day: str, row: int, status: str = "good") -> tuple:
    return (application_id, f"{day} 00:00:00", status, f"outcomes_{day}.csv", row, day)


@pytest.fixture()
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema raw")
    con.execute("create table raw.applications as select * from (values ('A1', '2026-01-01'), ('A2', '2026-01-01')) t(application_id, partition_date)")
    con.execute(
        "create table raw.outcomes (application_id varchar, outcome_date timestamp, status varchar, source_file varchar, "
        "source_row_number bigint, partition_date varchar)"
    )
    yield con
    con.close()


def test_an_outcome_for_an_application_never_received_is_named_by_file_row_and_id(con):
    con.executemany("insert into raw.outcomes values (?, ?, ?, ?, ?, ?)", [_outcome("A1", "2026-01-08", 1), _outcome("A9", "2026-01-08", 2)])
    links = outcome_links(con, ["2026-01-08"])
    assert links.outcomes == 2 and links.corrections == 0
    assert links.unlinked.values.tolist() == [["outcomes_2026-01-08.csv", 2, "A9"]]
    message = links.message()
    assert message.startswith("1 of 2 outcomes name an application keel never received")
    assert "outcomes_2026-01-08.csv row 2 application_id A9" in message and "raw.applications" in message


def test_only_the_days_asked_for_are_judged_and_a_clean_day_has_no_message(con):
    con.executemany("insert into raw.outcomes values (?, ?, ?, ?, ?, ?)", [_outcome("A9", "2026-01-08", 1), _outcome("A2", "2026-01-09", 1)])
    links = outcome_links(con, ["2026-01-09"])
    assert links.outcomes == 1 and links.unlinked.empty and links.message() is None


def test_an_outcome_landing_again_later_counts_as_a_correction(con):
    con.executemany(
        "insert into raw.outcomes values (?, ?, ?, ?, ?, ?)",
        [_outcome("A1", "2026-01-08", 1, "bad"), _outcome("A1", "2026-01-12", 1, "good"), _outcome("A2", "2026-01-12", 2)],
    )
    assert outcome_links(con, ["2026-01-12"]).corrections == 1
    assert outcome_links(con, ["2026-01-08"]).corrections == 0, "the first outcome corrects nothing"


def test_many_unlinked_outcomes_are_counted_and_the_first_ones_named(con):
    con.executemany("insert into raw.outcomes values (?, ?, ?, ?, ?, ?)", [_outcome(f"X{i:03d}", "2026-01-08", i) for i in range(1, 26)])
    message = outcome_links(con, ["2026-01-08"]).message()
    assert message.startswith("25 of 25 outcomes") and message.endswith(f"; and {25 - SHOWN_UNLINKED} more")
    assert "row 10 application_id X010" in message and "X011" not in message


def test_before_anything_landed_there_is_nothing_to_judge(tmp_path):
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    links = outcome_links(con, ["2026-01-08"])
    assert links.outcomes == 0 and links.unlinked.empty and links.message() is None
