"""Review and outcome events become ledger rows, cumulative per application day."""

import duckdb
import pandas as pd

from keel.ledger_events import OUTCOME, REVIEW, outcome_event_rows, review_event_rows
from keel.ledger_store import append_batch, current_rows, verify


def _reviews(*apps):
    return pd.DataFrame(
        {
            "application_id": list(apps),
            "application_date": pd.to_datetime(["2026-01-02"] * len(apps)),
            "decision": ["approve"] * len(apps),
            "reviewer": ["ana"] * len(apps),
            "reason": ["checked"] * len(apps),
            "reviewed_at": pd.to_datetime(["2026-01-02T10:00:00+00:00"] * len(apps), utc=True),
            "source_file": ["inbox-1.jsonl"] * len(apps),
            "source_sha256": ["a" * 64] * len(apps),
            "line_number": list(range(1, len(apps) + 1)),
            "run_id": ["run-9"] * len(apps),
            "ingest_seq": [1] * len(apps),
        }
    )


def test_review_events_carry_reviewer_reason_time_and_where_the_decision_came_from():
    (day, rows), = review_event_rows(_reviews("A000002", "A000001")).items()
    assert day == "2026-01-02" and list(rows["application_id"]) == ["A000001", "A000002"]
    first = rows.iloc[0]
    assert (first["reviewer"], first["review_reason"], first["final_decision"], first["decided_by"]) == ("ana", "checked", "approve", "reviewer")
    assert first["reviewed_at"] == "2026-01-02T10:00:00+00:00" and first["source_file"] == "inbox-1.jsonl" and first["source_row_number"] == 2


def test_cumulative_batches_keep_every_event_in_the_current_view_and_the_chain_intact(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for reviews in (_reviews("A000001"), _reviews("A000001", "A000002")):
        for day, rows in review_event_rows(reviews).items():
            append_batch(con, rows, day, REVIEW, "run", "2026-01-02T12:00:00+00:00")
    assert list(current_rows(con, REVIEW, "2026-01-02")["application_id"]) == ["A000001", "A000002"]
    assert verify(con).ok
    known = pd.DataFrame(
        {
            "application_id": ["A000001"],
            "application_date": pd.to_datetime(["2026-01-02"]),
            "status": ["bad"],
            "source_file": ["outcomes_2026-01-09.csv"],
            "source_sha256": ["b" * 64],
            "source_row_number": [4],
        }
    )
    for day, rows in outcome_event_rows(known).items():
        assert append_batch(con, rows, day, OUTCOME, "run", "t") is not None
        assert append_batch(con, rows, day, OUTCOME, "run", "t") is None, "unchanged outcomes append nothing"
    assert current_rows(con, OUTCOME, "2026-01-02")["repayment_status"].tolist() == ["bad"]
    assert verify(con).ok


def test_a_corrected_outcome_is_recorded_after_the_first_whatever_order_the_query_returns(tmp_path):
    known = pd.DataFrame(
        {
            "application_id": ["A000002", "A000001", "A000001"],
            "application_date": pd.to_datetime(["2026-01-02"] * 3),
            "status": ["good", "good", "bad"],
            "source_file": ["outcomes_2026-01-09.csv", "outcomes_2026-01-12.csv", "outcomes_2026-01-09.csv"],
            "source_sha256": ["b" * 64, "c" * 64, "b" * 64],
            "source_row_number": [5, 2, 4],
        }
    )
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    (day, rows), = outcome_event_rows(known).items()
    assert rows[["application_id", "repayment_status"]].values.tolist() == [["A000001", "bad"], ["A000001", "good"], ["A000002", "good"]]
    assert append_batch(con, rows, day, OUTCOME, "run", "t") is not None
    (_, reordered), = outcome_event_rows(known.iloc[::-1].reset_index(drop=True)).items()
    assert append_batch(con, reordered, day, OUTCOME, "run", "t") is None, "the same outcomes in another order are no new batch"


def _decision_rows(count: int) -> pd.DataFrame:
    import numpy as np

    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "application_id": [f"A{i:07d}" for i in range(count)],
            "application_date": "2026-01-02",
            "score": rng.random(count),
            "route": rng.choice(["approve", "decline", "review"], count),
            "reason_codes": '["R1"]',
            "source_row_number": pd.array([None if i % 97 == 0 else i for i in range(count)], dtype="Int64"),
            "model_version": "m-1",
        }
    )


def test_a_batch_streamed_from_the_warehouse_a_frame_at_a_time_is_the_batch_of_the_whole_frame(tmp_path):
    """What the decision ledger does for a large day: same rows, digest, chain and stored text as one frame.

    Run ids and versions, the same on every row, are given apart from the
    frames and staged once; they hash and read back as if every row held them.
    """
    from keel.ledger_store import append_batch_in_order
    from keel.warehouse import query_frames

    rows = _decision_rows(2_500)
    whole = duckdb.connect(str(tmp_path / "whole.duckdb"))
    streamed = duckdb.connect(str(tmp_path / "streamed.duckdb"))
    streamed.register("day_rows", rows)
    streamed.execute("create table day as select * from day_rows")
    reader = streamed.cursor()
    # Frames of 300 rows: some hold no missing row number (int64), others do (Int64).
    frames = query_frames(reader, "select * from day order by application_id", rows_per_frame=300)
    same_on_every_row = {"run_ids": '{"scores": "r-1", "decisions": "r\\2"}', "contract_version": None, "code_version": "c-7"}
    by_frames = append_batch_in_order(streamed, frames, "2026-01-02", "decision", "run", "t", same_on_every_row)
    by_whole = append_batch(whole, rows.assign(**same_on_every_row).sample(frac=1, random_state=1), "2026-01-02", "decision", "run", "t")
    assert (by_frames.row_count, by_frames.rows_sha256, by_frames.digest) == (2_500, by_whole.rows_sha256, by_whole.digest)
    pd.testing.assert_frame_equal(current_rows(streamed, "decision"), current_rows(whole, "decision"))
    assert verify(streamed).ok
    again = query_frames(streamed.cursor(), "select * from day order by application_id", rows_per_frame=700)
    assert append_batch_in_order(streamed, again, "2026-01-02", "decision", "run", "t", same_on_every_row) is None, "the same rows again append nothing"
    assert streamed.execute("select count(*) from audit.decision_ledger").fetchone()[0] == 2_500
    assert _audit_tables(streamed) == ["decision_ledger", "ledger_batches"]


def test_frames_out_of_ledger_order_are_refused_and_nothing_is_appended(tmp_path):
    import pytest

    from keel.ledger_store import append_batch_in_order

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    rows = _decision_rows(10)
    # What a run killed mid-write by an earlier keel left: the next write drops it.
    con.execute("create schema audit; create table audit.decision_ledger__incoming as select 1 as batch_seq")
    with pytest.raises(ValueError, match="application_id order"):
        append_batch_in_order(con, [rows.iloc[5:], rows.iloc[:5]], "2026-01-02", "decision", "run", "t")
    with pytest.raises(ValueError, match="application_id order"):
        append_batch_in_order(con, [rows.iloc[::-1]], "2026-01-02", "decision", "run", "t")
    assert con.execute("select count(*) from audit.decision_ledger").fetchone()[0] == 0
    assert con.execute("select count(*) from audit.ledger_batches").fetchone()[0] == 0
    assert _audit_tables(con) == ["decision_ledger", "ledger_batches"], "the staged rows are dropped"
    assert con.execute("select count(*) from information_schema.tables where table_catalog = 'temp'").fetchone()[0] == 0
    with pytest.raises(ValueError, match="both in the rows and as the same on every row: model_version"):
        append_batch_in_order(con, [rows], "2026-01-02", "decision", "run", "t", {"model_version": "m-2"})
    with pytest.raises(ValueError, match="not ledger columns: run_id"):
        append_batch_in_order(con, [rows], "2026-01-02", "decision", "run", "t", {"run_id": "r"})


def _audit_tables(con) -> list[str]:
    return [r[0] for r in con.execute("select table_name from information_schema.tables where table_schema = 'audit' order by 1").fetchall()]


def test_an_amended_review_is_recorded_after_the_decision_it_amends_whatever_order_the_query_returns(tmp_path):
    reviews = _reviews("A000001", "A000002", "A000001")
    reviews["decision"] = ["decline", "approve", "approve"]  # line 3 amends line 1
    reviews["ingest_seq"] = [1, 1, 2]
    expected = None
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        (day, rows), = review_event_rows(reviews.iloc[order]).items()
        assert list(zip(rows["application_id"], rows["final_decision"])) == [("A000001", "decline"), ("A000001", "approve"), ("A000002", "approve")]
        con = duckdb.connect(str(tmp_path / f"w{order[0]}.duckdb"))
        append_batch(con, rows, day, REVIEW, "run", "2026-01-02T12:00:00+00:00")
        digest = con.execute("select rows_sha256 from audit.ledger_batches").fetchone()[0]
        assert expected in (None, digest), "the batch hashes the same whatever order the query returned"
        expected = digest


def test_verify_checks_a_batch_at_a_time_and_finds_rows_no_batch_chains(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for reviews in (_reviews("A000001"), _reviews("A000001", "A000002")):
        for day, rows in review_event_rows(reviews).items():
            append_batch(con, rows, day, REVIEW, "run", "2026-01-02T12:00:00+00:00")
    told = []
    assert verify(con, progress=lambda done, total: told.append((done, total))).ok
    assert told == [(0, 2), (1, 2)]

    # A row slipped in under a batch number no batch record has: not chained, so not intact.
    con.execute("insert into audit.decision_ledger select * replace (7 as batch_seq) from audit.decision_ledger limit 1")
    report = verify(con)
    assert not report.ok and report.first_broken_batch == 7 and report.first_broken_day == "2026-01-02"
    assert "1 ledger rows name batch 7, which no batch record chains" in report.reason
