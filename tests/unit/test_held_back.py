"""Rows held back: quarantined by the contract and not taken in since (keel/held_back.py), on a real DuckDB."""

import csv
import hashlib

import duckdb
import pytest

from keel.held_back import (
    PROBLEMS_COLUMN,
    ROW_NUMBER_COLUMN,
    HeldBackFileError,
    held_back_by_day,
    held_back_records,
    landing_path,
    rows_with_problems,
    write_export,
)
from keel.home import KeelHome

QUARANTINE = """
create table raw.applications_quarantine (
    source_file varchar, source_sha256 varchar, row_number bigint, application_id varchar, "column" varchar, "check" varchar,
    value_found varchar, reason varchar, raw_row_hash varchar, partition_date varchar, source varchar)
"""


def _record(day, row, application_id, column, check, found="x", sha="s1"):
    return (f"applications_{day}.csv", sha, row, application_id, column, check, found, f"row {row}: {column} {check}", "h", day, "applications")


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute(QUARANTINE)
    con.execute("create table raw.applications (application_id varchar, partition_date varchar)")
    con.executemany(
        "insert into raw.applications_quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            _record("2026-01-01", 2, "A000002", "age", "type", "abc"),
            _record("2026-01-01", 5, "A000005", "age", "range", "150"),
            _record("2026-01-01", 5, "A000005", "time", "range", "0"),  # one row, two problems
            _record("2026-01-01", 7, None, "application_id", "not_null", ""),  # no key: held until the file is replaced
            _record("2026-01-02", 1, "", "row", "truncated_row"),
            _record("2026-01-02", 9, "A000001", "application_id", "received_on_another_day", "A000001"),  # its first delivery stands
        ],
    )
    con.execute("insert into raw.applications values ('A000001', '2026-01-01'), ('A000003', '2026-01-01')")
    yield con
    con.close()


def test_a_row_whose_key_was_taken_in_elsewhere_is_not_held_back_one_without_a_key_is(con):
    records = held_back_records(con, "applications")
    assert [(r.day, r.row_number) for r in records.itertuples()] == [
        ("2026-01-01", 2), ("2026-01-01", 5), ("2026-01-01", 5), ("2026-01-01", 7), ("2026-01-02", 1)
    ]
    # Taken in later (a corrected delivery of its id): no longer held back.
    con.execute("insert into raw.applications values ('A000005', '2026-01-01')")
    assert 5 not in set(held_back_records(con, "applications")["row_number"])


def test_a_day_and_a_number_of_rows_select_whole_rows(con):
    assert list(held_back_records(con, "applications", "2026-01-02")["row_number"]) == [1]
    first_two = held_back_records(con, "applications", rows=2)
    assert list(first_two["row_number"]) == [2, 5, 5], "a row's every problem comes with it"
    assert held_back_records(con, "applications", rows=0).empty


def test_counts_per_day_are_of_rows_and_per_check_of_the_rows_it_held_back(con):
    assert held_back_by_day(con, "applications") == [
        {"source": "applications", "date": "2026-01-01", "source_file": "applications_2026-01-01.csv", "source_sha256": "s1", "rows": 3,
         "rows_by_check": {"not_null": 1, "range": 1, "type": 1}},
        {"source": "applications", "date": "2026-01-02", "source_file": "applications_2026-01-02.csv", "source_sha256": "s1", "rows": 1,
         "rows_by_check": {"truncated_row": 1}},
    ]


def test_a_home_without_a_quarantine_holds_nothing_back_and_an_old_one_without_keys_holds_every_row(con):
    assert held_back_by_day(con, "outcomes") == [] and held_back_records(con, "outcomes").empty
    with pytest.raises(ValueError, match="unknown source 'payments'"):
        held_back_records(con, "payments")
    old = duckdb.connect()
    old.execute("create schema raw")
    old.execute('create table raw.applications_quarantine (source_file varchar, source_sha256 varchar, row_number bigint, "column" varchar, '
                '"check" varchar, value_found varchar, reason varchar, partition_date varchar)')
    old.execute("insert into raw.applications_quarantine values ('applications_2026-01-01.csv', 's', 3, 'age', 'type', 'abc', 'r', '2026-01-01')")
    assert [entry["rows"] for entry in held_back_by_day(old, "applications")] == [1]


def test_records_become_rows_with_their_problems(con):
    rows = rows_with_problems(held_back_records(con, "applications", "2026-01-01"))
    assert [(row["row_number"], row["application_id"], [p["column"] for p in row["problems"]]) for row in rows] == [
        (2, "A000002", ["age"]), (5, "A000005", ["age", "time"]), (7, None, ["application_id"])
    ]
    assert rows[1]["problems"][1] == {"column": "time", "check": "range", "value_found": "0", "reason": "row 5: time range"}


def _export_home(tmp_path, text: str, records: list[tuple], sha: str | None = None):
    """A home whose landing folder holds `text` as the 2026-01-01 applications file, and a quarantine of `records`
    (row, column, check, reason) naming that file by `sha` (its own sha256 unless given)."""
    home = KeelHome(tmp_path / "home")
    path = home.landing_dir("applications") / "applications_2026-01-01.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute(QUARANTINE)
    sha = sha or hashlib.sha256(text.encode()).hexdigest()
    con.executemany(
        "insert into raw.applications_quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [("applications_2026-01-01.csv", sha, row, None, column, check, "x", reason, "h", "2026-01-01", "applications")
         for row, column, check, reason in records],
    )
    return home, con, path


def test_an_export_gives_the_rows_exactly_as_received_each_with_its_problems(tmp_path):
    text = "application_id,age,home\nA000001,30,rent\nA000002,abc,\nA000003, 007 ,rent\nA000004,150,castle\n"
    records = [(2, "age", "type", "expected a whole number, found 'abc'"), (4, "home", "allowed_values", "r2"), (4, "age", "range", "r1")]
    home, con, landed = _export_home(tmp_path, text, records)
    out = tmp_path / "out" / "held.csv"
    exported = write_export(home, con, "applications", "2026-01-01", out)
    assert (exported.path, exported.rows, exported.files) == (out, 2, ["applications_2026-01-01.csv"])
    with out.open() as file, landed.open() as source:
        written, received = list(csv.reader(file)), list(csv.reader(source))
    assert written[0] == [ROW_NUMBER_COLUMN, "application_id", "age", "home", PROBLEMS_COLUMN]
    assert [line[0] for line in written[1:]] == ["2", "4"]
    assert [line[1:-1] for line in written] == [received[0], received[2], received[4]], "the rows as the source sent them, an empty cell too"
    # A row's problems in one cell, by column and check, whatever order the quarantine holds them in.
    assert [line[-1] for line in written[1:]] == ["age (type): expected a whole number, found 'abc'", "age (range): r1; home (allowed_values): r2"]
    assert write_export(home, con, "applications", "2026-01-02", tmp_path / "none.csv").rows == 0


def test_a_damaged_row_is_exported_without_the_readers_marks_and_a_replaced_file_is_refused(tmp_path):
    text = "application_id,age,home\nA000001,30,rent\nA000002,4"  # cut off in its last row
    home, con, _ = _export_home(tmp_path, text, [(2, None, "truncated_row", "cut")])
    out = tmp_path / "held.csv"
    write_export(home, con, "applications", "2026-01-01", out)
    assert out.read_text().splitlines() == [f"{ROW_NUMBER_COLUMN},application_id,age,home,{PROBLEMS_COLUMN}", "2,A000002,4,,row (truncated_row): cut"]
    replaced, con, _ = _export_home(tmp_path / "replaced", text, [(2, None, "truncated_row", "cut")], sha="another")
    with pytest.raises(HeldBackFileError, match=r"applications_2026-01-01\.csv: its sha256 is .* the file was replaced since"):
        write_export(replaced, con, "applications", "2026-01-01", tmp_path / "refused.csv")
    unknown, con, _ = _export_home(tmp_path / "unknown", text, [(7, "age", "type", "r"), (2, None, "truncated_row", "cut")])
    with pytest.raises(HeldBackFileError, match=r"applications_2026-01-01\.csv: rows \[7\] are not in the file"):
        write_export(unknown, con, "applications", "2026-01-01", tmp_path / "refused.csv")
    assert not (tmp_path / "refused.csv").exists()


def test_an_outcome_correction_held_back_is_not_stood_for_by_the_outcome_it_corrects(con):
    """The latest outcome counts: one taken in before a quarantined correction does not take the correction in."""
    con.execute(QUARANTINE.replace("applications_quarantine", "outcomes_quarantine"))
    con.execute("create table raw.outcomes (application_id varchar, partition_date varchar)")
    con.execute("insert into raw.outcomes values ('A000001', '2026-01-01'), ('A000002', '2026-01-01'), ('A000002', '2026-01-07')")
    con.executemany(
        "insert into raw.outcomes_quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(f"outcomes_{day}.csv", "s", row, key, "status", "allowed_values", "Late", "r", "h", day, "outcomes")
         for day, row, key in [("2026-01-05", 1, "A000001"), ("2026-01-05", 2, "A000002"), ("2026-01-05", 3, "A000003")]],
    )
    # A000001's outcome of 2026-01-01 does not stand for its correction; A000002 was corrected again on 2026-01-07.
    assert list(held_back_records(con, "outcomes")["application_id"]) == ["A000001", "A000003"]
    con.execute("insert into raw.outcomes values ('A000001', '2026-01-05'), ('A000003', '2026-01-06')")
    assert held_back_records(con, "outcomes").empty


def test_a_landing_file_name_from_the_quarantine_is_checked_before_it_reaches_a_path(tmp_path):
    home = KeelHome(tmp_path / "home")
    assert landing_path(home, "applications", "applications_2026-01-01.csv") == home.landing_dir("applications") / "applications_2026-01-01.csv"
    for name in ("../applications_2026-01-01.csv", "outcomes_2026-01-01.csv", "applications_2026-01-01.csv/../../x.csv", "x.csv"):
        with pytest.raises(ValueError):
            landing_path(home, "applications", name)
