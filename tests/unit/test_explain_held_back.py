"""`keel explain` of an application the data contract held back: where, why and what to do, not "never decided"."""

from __future__ import annotations

import datetime as dt

import pytest

from keel import warehouse as wh
from keel.audit.explain import NotDecided, NotFound, explain_application, held_back, story
from keel.ingest import ingest_file_into
from keel.landing_zone import frame_to_bytes
from tests.unit.test_contracts_apply import rows
from tests.unit.test_explain_story import _record

DAY = dt.date(2026, 1, 3)
NEXT_DAY = dt.date(2026, 1, 4)


def _ingest(con, tmp_path, day: dt.date, *changes: dict) -> None:
    path = tmp_path / f"applications_{day.isoformat()}.csv"
    frame = rows(*changes).assign(application_date=day.isoformat())
    path.write_bytes(frame_to_bytes(frame, "csv"))
    ingest_file_into(con, path, "applications", day)


def test_a_quarantined_application_is_explained_by_its_file_row_and_reason(tmp_path):
    with wh.connect(tmp_path / "w.duckdb") as con:
        _ingest(con, tmp_path, DAY, {}, {"income": "1,200", "age": "7"}, {})
        with pytest.raises(NotDecided) as raised:
            explain_application(con, "A000002")
    record = raised.value.record
    assert record["decided"] is False and record["received_undecided"] == []
    (delivery,) = record["held_back"]
    assert (delivery["day"], delivery["source_file"], delivery["row_number"]) == ("2026-01-03", "applications_2026-01-03.csv", 2)
    assert sorted((p["column"], p["check"], p["value_found"]) for p in delivery["problems"]) == [("age", "range", "7"), ("income", "type", "1,200")]
    text = str(raised.value)
    assert "applications_2026-01-03.csv row 2, column income: expected a number, found '1,200'" in text
    assert "resends the row corrected" in text


def test_an_application_received_but_not_yet_decided_says_which_day_to_run(tmp_path):
    with wh.connect(tmp_path / "w.duckdb") as con:
        _ingest(con, tmp_path, DAY, {})
        with pytest.raises(NotDecided) as raised:
            explain_application(con, "A000001")
    assert raised.value.record["received_undecided"] == [{"day": "2026-01-03", "source_file": "applications_2026-01-03.csv", "row_number": 1}]
    assert "keel run --date 2026-01-03" in str(raised.value)


def test_an_id_no_file_holds_is_said_to_be_unknown(tmp_path):
    with wh.connect(tmp_path / "w.duckdb") as con:
        _ingest(con, tmp_path, DAY, {})
        with pytest.raises(NotFound, match="no landing file taken in holds it"):
            explain_application(con, "A000009")


def test_held_back_reads_each_delivery_and_a_quarantine_from_before_the_key_column(tmp_path):
    with wh.connect(tmp_path / "w.duckdb") as con:
        _ingest(con, tmp_path, DAY, {"age": "7"})
        _ingest(con, tmp_path, NEXT_DAY, {"age": "70"})  # the same id on the next day, now valid
        assert [(d["day"], [p["check"] for p in d["problems"]]) for d in held_back(con, "applications", "A000001")] == [("2026-01-03", ["range"])]
        # A home whose quarantine was written before records carried the key: found where the id was the bad value.
        con.execute("create table raw.old_quarantine as select * exclude (application_id) from raw.applications_quarantine")
        con.execute("""insert into raw.old_quarantine select source_file, source_sha256, 5, 'application_id', 'pattern',
                       'A000005', 'bad id', raw_row_hash, partition_date, source from raw.old_quarantine""")
        assert [d["row_number"] for d in held_back(con, "old", "A000005")] == [5]
        assert held_back(con, "old", "A000001") == []


def test_the_story_of_a_decided_application_names_earlier_deliveries_held_back():
    delivery = {"day": "2026-01-03", "source_file": "applications_2026-01-03.csv", "row_number": 2,
                "problems": [{"column": "income", "check": "type", "value_found": "1,200", "reason": "row 2, column income: expected a number"}]}  # fmt: skip
    lines = story(_record(held_back=[delivery], outcomes_held_back=[{**delivery, "source_file": "outcomes_2026-01-09.csv"}]))
    assert "  - 2026-01-03: applications_2026-01-03.csv row 2, quarantined:" in lines
    assert "      type on income: row 2, column income: expected a number" in lines
    assert "  - 2026-01-03: outcomes_2026-01-09.csv row 2, quarantined:" in lines
    assert not any("quarantined" in line for line in story(_record()))
