"""A day's file through its contract into DuckDB a chunk at a time: the warehouse holds what one pass would give."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from keel import warehouse as wh
from keel.contracts import apply_contract
from keel.ingest import DAY_COLUMN, contract_for, ingest_file_into, quarantine_rows_of_other_days
from keel.landing import read_landing_file
from keel.landing_zone import frame_to_bytes
from tests.unit.test_contracts_apply import rows

DAY = dt.date(2026, 1, 3)
FILE = "applications_2026-01-03.csv"


def _land(tmp_path, frame: pd.DataFrame):
    path = tmp_path / FILE
    path.write_bytes(frame_to_bytes(frame, "csv"))
    return path


def _table(con, name: str) -> pd.DataFrame:
    return wh.query_frame(con, f"select * exclude (partition_date) from raw.{name} order by all")


def test_chunks_store_the_rows_one_pass_would(tmp_path):
    frame = rows(
        {}, {"age": "7"}, {"application_id": "A000001"}, {"application_date": "2026-01-02"}, {}, {"job": "gig"},
        {"application_id": "A000005", "amount": "900"}, {"time": "twelve"}, {},
    )  # fmt: skip
    path = _land(tmp_path, frame)
    landed = read_landing_file(path)
    whole = quarantine_rows_of_other_days(apply_contract(landed.frame, contract_for("applications"), FILE, landed.sha256), DAY_COLUMN["applications"], DAY, "application_id")

    with wh.connect(tmp_path / "w.duckdb") as con:
        outcome = ingest_file_into(con, path, "applications", DAY, rows_per_chunk=2)
        assert outcome.counts == whole.counts == {"received": 9, "accepted": 4, "quarantined": 3, "duplicates": 2}
        assert outcome.accepted.empty, "the accepted rows are in the warehouse, not held"
        stored = _table(con, "applications")
        expected = whole.accepted.sort_values(list(whole.accepted.columns), ignore_index=True)
        assert stored["source_row_number"].tolist() == expected["source_row_number"].tolist()
        assert stored["raw_row_hash"].tolist() == expected["raw_row_hash"].tolist()
        pd.testing.assert_frame_equal(outcome.quarantine, whole.quarantine)
        assert outcome.quarantine["row_number"].is_monotonic_increasing
        assert _table(con, "applications_quarantine")["row_number"].tolist() == [2, 4, 8]
        assert _table(con, "applications_duplicates")[["row_number", "kept_row_number"]].values.tolist() == [[3, 1], [7, 5]]
        assert outcome.result.new_categories == {"job": {"gig": 1}}

        # The same day again: one copy of each row.
        again = ingest_file_into(con, path, "applications", DAY, rows_per_chunk=4)
        assert again.counts == outcome.counts
        assert len(_table(con, "applications")) == 4 and len(_table(con, "applications_quarantine")) == 3


def test_a_blocked_day_keeps_its_earlier_accepted_rows_and_quarantines_every_row(tmp_path):
    with wh.connect(tmp_path / "w.duckdb") as con:
        ingest_file_into(con, _land(tmp_path, rows({}, {})), "applications", DAY, rows_per_chunk=1)
        blocked = ingest_file_into(con, _land(tmp_path, rows(*[{"time": "long"}] * 3)), "applications", DAY, rows_per_chunk=1)
        assert blocked.blocked and blocked.counts == {"received": 3, "accepted": 0, "quarantined": 3, "duplicates": 0}
        assert len(_table(con, "applications")) == 2, "a blocked resend does not wipe the day's good rows"
        assert set(_table(con, "applications_quarantine")["check"]) == {"incompatible_type"}


def test_an_unreadable_file_is_reported_not_raised(tmp_path):
    path = tmp_path / FILE
    path.write_bytes(b"")
    with wh.connect(tmp_path / "w.duckdb") as con:
        outcome = ingest_file_into(con, path, "applications", DAY)
        assert outcome.file_problem == "empty_file" and outcome.blocked
        assert not wh.table_exists(con, "raw", "applications")


def test_rows_dated_another_day_are_quarantined():
    frame = rows(
        {"application_date": "2026-01-03"}, {"application_date": "2026-01-04"}, {"application_date": "2026-01-03"},
        {"application_date": "2026-01-02"}, {"application_date": "2025-01-03"}, {"application_date": "2026-01-03"},
    )  # fmt: skip
    judged = apply_contract(frame, contract_for("applications"), FILE, "f" * 64)
    assert judged.counts["accepted"] == 6
    result = quarantine_rows_of_other_days(judged, DAY_COLUMN["applications"], DAY, "application_id")
    assert result.accepted["source_row_number"].tolist() == [1, 3, 6]
    assert result.quarantine["row_number"].tolist() == [2, 4, 5]
    assert set(result.quarantine["check"]) == {"in_file_day"}
    assert "expected 2026-01-03 (the file's day), found 2026-01-04" in result.quarantine["reason"].iloc[0]
    assert result.counts == {"received": 6, "accepted": 3, "quarantined": 3, "duplicates": 0}


def test_an_application_already_received_on_another_day_is_quarantined_naming_where(tmp_path):
    from keel.ingest import CHECK_RECEIVED_ON_ANOTHER_DAY
    from keel.contracts.result import reconcile

    earlier_day = dt.date(2026, 1, 2)
    earlier = tmp_path / "applications_2026-01-02.csv"
    earlier.write_bytes(frame_to_bytes(rows(*[{"application_date": "2026-01-02"}] * 3), "csv"))  # A000001 .. A000003
    # The next day's file sends A000002 again (a resubmission), between two new applications.
    today = rows({"application_id": "A000010"}, {"application_id": "A000002", "amount": "900"}, {"application_id": "A000011"})
    path = _land(tmp_path, today)
    with wh.connect(tmp_path / "w.duckdb") as con:
        ingest_file_into(con, earlier, "applications", earlier_day)
        outcome = ingest_file_into(con, path, "applications", DAY, rows_per_chunk=2)
        assert outcome.counts == {"received": 3, "accepted": 2, "quarantined": 1, "duplicates": 0} and reconcile(outcome.counts)[0]
        assert outcome.quarantined_by_reason == {CHECK_RECEIVED_ON_ANOTHER_DAY: 1}
        (record,) = outcome.quarantine.to_dict("records")
        assert (record["row_number"], record["column"], record["value_found"]) == (2, "application_id", "A000002")
        assert record["reason"].startswith(f"{FILE} row 2: column application_id expected an application not received on another day, found A000002")
        assert "already received on 2026-01-02 (applications_2026-01-02.csv row 2)" in record["reason"]
        stored = wh.query_frame(con, "select application_id, partition_date from raw.applications order by all")
        assert stored.values.tolist() == [
            ["A000001", "2026-01-02"], ["A000002", "2026-01-02"], ["A000003", "2026-01-02"], ["A000010", "2026-01-03"], ["A000011", "2026-01-03"],
        ]  # fmt: skip
        assert _table(con, "applications_quarantine")["value_found"].tolist() == ["A000002"]
        # The earlier day delivered again keeps its row: the repeat never stood.
        assert ingest_file_into(con, earlier, "applications", earlier_day).counts["accepted"] == 3
        # And the later day again quarantines the repeat again, once.
        assert ingest_file_into(con, path, "applications", DAY).counts["quarantined"] == 1
        assert len(_table(con, "applications_quarantine")) == 1


def test_what_a_check_judged_names_the_file_or_the_days(tmp_path):
    from keel.ingest import IngestOutcome, nothing_landed

    with wh.connect(tmp_path / "w.duckdb") as con:
        read = ingest_file_into(con, _land(tmp_path, rows({})), "applications", DAY)
        (tmp_path / FILE).write_bytes(b"")
        empty = ingest_file_into(con, tmp_path / FILE, "applications", DAY)
    assert read.what_was_read == empty.what_was_read == FILE
    assert nothing_landed("outcomes", DAY).what_was_read == "2026-01-03: no file landed"
    later = nothing_landed("outcomes", DAY + dt.timedelta(days=1))
    assert IngestOutcome.combine([read, later]).what_was_read == "2 days, 2026-01-03 to 2026-01-04"
