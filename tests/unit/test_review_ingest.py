"""Inbox files into review_outcomes and the final decisions, on a real DuckDB file."""

import json
import os

import duckdb
import pandas as pd
import pytest

from keel.review.ingest import days_to_refresh, ingest_inbox, refresh_final_decisions, stored_outcomes
from keel.settling import SETTLE_SECONDS

DECISIONS = pd.DataFrame(
    {
        "application_id": ["A000001", "A000002", "A000003", "A000004"],
        "application_date": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-01-01", "2026-01-02"]),
        "route": ["approve", "review", "review", "review"],
        "suggested_decision": ["approve", "decline", "approve", "approve"],
        "qa_sampled": [False, False, True, False],
    }
)


@pytest.fixture
def home(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema decisioning; create schema review")
    con.register("d", DECISIONS)
    con.execute("create table decisioning.decisions as select * from d")
    con.execute("create table review.review_queue as select * from d where route = 'review'")
    for name in ("inbox", "processed", "rejected"):
        (tmp_path / name).mkdir()
    yield con, tmp_path
    con.close()


def _drop(folder, name, lines):
    (folder / "inbox" / name).write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))


def _decision(app, decision, reviewer="ana", at="2026-01-01T12:00:00+00:00"):
    return {"application_id": app, "decision": decision, "reviewer": reviewer, "reason": "checked the file", "reviewed_at": at}


def _ingest(con, folder, run="run-1"):
    return ingest_inbox(con, folder / "inbox", folder / "processed", folder / "rejected", run)


def test_good_lines_are_kept_and_each_bad_line_is_set_aside_with_its_reason(home):
    con, folder = home
    _drop(
        folder,
        "a.jsonl",
        [
            _decision("A000002", "approve"),
            "{not json",
            _decision("A009999", "approve"),  # unknown
            _decision("A000001", "decline"),  # decided automatically
            _decision("A000002", "decline"),  # second decision in the file
            _decision("A000003", "maybe"),  # unknown decision value
        ],
    )
    result = _ingest(con, folder)
    assert (result.accepted, result.rejected) == (1, 5)
    refused = [json.loads(line) for line in (folder / "rejected" / "a.jsonl.rejected.jsonl").read_text().splitlines()]
    reasons = {r["line_number"]: r["reason"] for r in refused}
    assert "malformed JSON" in reasons[2] and "unknown application A009999" in reasons[3]
    assert "not in the review queue" in reasons[4] and "already decided on line 1" in reasons[5] and "'maybe'" in reasons[6]
    assert not list((folder / "inbox").iterdir()) and (folder / "processed" / "a.jsonl").exists()
    stored = stored_outcomes(con)
    assert stored.loc[0, "application_id"] == "A000002" and stored.loc[0, "suggested_decision"] == "decline"
    assert stored.loc[0, "run_id"] == "run-1" and stored.loc[0, "line_number"] == 1 and result.days == ["2026-01-01"]


def test_a_case_decided_in_an_earlier_file_is_refused_later(home):
    con, folder = home
    _drop(folder, "a.jsonl", [_decision("A000002", "approve")])
    _ingest(con, folder)
    _drop(folder, "b.jsonl", [_decision("A000002", "decline")])
    second = _ingest(con, folder, "run-2")
    assert (second.accepted, second.rejected) == (0, 1)
    assert len(stored_outcomes(con)) == 1


def test_final_decisions_one_row_per_application_pending_never_defaulted(home):
    con, folder = home
    assert days_to_refresh(con) == ["2026-01-01", "2026-01-02"]
    refresh_final_decisions(con)
    assert days_to_refresh(con) == []
    _drop(folder, "a.jsonl", [_decision("A000002", "approve"), _decision("A000003", "approve")])
    _ingest(con, folder)
    assert days_to_refresh(con) == ["2026-01-01"], "only the day with new review outcomes is rebuilt"
    refresh_final_decisions(con)
    final = con.execute("select application_id, final_decision, decided_by, reviewer, overridden from review.final_decisions order by 1").fetchall()
    assert final == [
        ("A000001", "approve", "auto", None, False),
        ("A000002", "approve", "reviewer", "ana", True),  # suggestion was decline
        ("A000003", "approve", "reviewer", "ana", False),
        ("A000004", "pending", None, None, False),
    ]


def test_a_day_decided_again_with_other_routes_is_rebuilt_and_a_review_stands(home):
    con, folder = home
    _drop(folder, "a.jsonl", [_decision("A000002", "decline")])
    _ingest(con, folder)
    refresh_final_decisions(con)
    # The day's file was replaced and the day decided again: A000002 is now approved automatically, A000001 goes to review.
    con.execute("update decisioning.decisions set route = 'approve', suggested_decision = 'approve' where application_id = 'A000002'")
    con.execute("update decisioning.decisions set route = 'review', suggested_decision = 'decline' where application_id = 'A000001'")
    assert days_to_refresh(con) == ["2026-01-01"], "the day whose routes changed, not the untouched one"
    refresh_final_decisions(con)
    assert days_to_refresh(con) == []
    final = con.execute("select application_id, route, final_decision, decided_by, reviewer, overridden from review.final_decisions order by 1").fetchall()
    assert final[:2] == [
        ("A000001", "review", "pending", None, None, False),
        ("A000002", "approve", "decline", "reviewer", "ana", True),  # the person's decision stands over the automatic approve
    ]


def test_a_file_still_being_appended_to_stays_in_the_inbox_until_it_settles(home):
    """Read half-way, the lines a tool appended afterwards followed the file into review/processed unread."""
    con, folder = home
    _drop(folder, "appending.jsonl", [_decision("A000002", "decline")])
    written = (folder / "inbox" / "appending.jsonl").stat().st_mtime
    early = ingest_inbox(con, folder / "inbox", folder / "processed", folder / "rejected", "run-1", now=written + SETTLE_SECONDS - 1)
    assert early.files == [] and early.still_being_written == ["appending.jsonl"]
    assert (folder / "inbox" / "appending.jsonl").exists() and stored_outcomes(con).empty
    with open(folder / "inbox" / "appending.jsonl", "a") as appending:
        appending.write(json.dumps(_decision("A000003", "approve")) + "\n")
    settled = ingest_inbox(con, folder / "inbox", folder / "processed", folder / "rejected", "run-2", now=written + 3600)
    assert [f.accepted for f in settled.files] == [2] and settled.still_being_written == []
    assert sorted(stored_outcomes(con)["application_id"]) == ["A000002", "A000003"]


def test_an_amendment_in_a_later_file_corrects_the_final_decision_and_both_stay_on_record(home):
    con, folder = home
    _drop(folder, "a.jsonl", [_decision("A000002", "approve"), _decision("A000003", "approve")])
    _ingest(con, folder)
    refresh_final_decisions(con)
    # Two files taken in by one run: the amendment in the second, a plain second decision refused in the first.
    _drop(folder, "b.jsonl", [_decision("A000003", "decline")])
    _drop(folder, "a2.jsonl", [{**_decision("A000002", "decline", reviewer="jdoe"), "amends": True}])
    os.utime(folder / "inbox" / "a2.jsonl", (1e9 + 10, 1e9 + 10))  # arrived after b.jsonl, though its name sorts first
    os.utime(folder / "inbox" / "b.jsonl", (1e9, 1e9))
    second = _ingest(con, folder, "run-2")
    assert (second.accepted, second.rejected) == (1, 1)
    assert days_to_refresh(con) == ["2026-01-01"]
    refresh_final_decisions(con)
    final = con.execute("select application_id, final_decision, reviewer, overridden from review.final_decisions where application_id in ('A000002', 'A000003') order by 1").fetchall()
    assert final == [("A000002", "decline", "jdoe", False), ("A000003", "approve", "ana", False)]
    stored = stored_outcomes(con)
    assert list(zip(stored["application_id"], stored["decision"], stored["amends"])) == [
        ("A000002", "approve", False), ("A000003", "approve", False), ("A000002", "decline", True)
    ]
    assert stored["ingest_seq"].tolist() == [1, 1, 3], "each file taken in has its place in the order (b.jsonl was 2)"


def test_outcomes_stored_before_amendments_existed_read_as_first_decisions(home):
    con, folder = home
    _drop(folder, "a.jsonl", [_decision("A000002", "approve")])
    _ingest(con, folder)
    con.execute("alter table review.review_outcomes drop column amends")
    assert stored_outcomes(con)["amends"].tolist() == [False]
    _drop(folder, "b.jsonl", [{**_decision("A000002", "decline"), "amends": True}])
    _ingest(con, folder, "run-2")
    assert stored_outcomes(con)["amends"].tolist() == [False, True]
    refresh_final_decisions(con)
    assert con.execute("select final_decision from review.final_decisions where application_id = 'A000002'").fetchone() == ("decline",)


def test_a_standing_review_of_a_case_its_day_took_out_of_review_is_amended_with_the_context_it_was_reviewed_in(home):
    con, folder = home
    _drop(folder, "a.jsonl", [_decision("A000002", "approve")])
    _ingest(con, folder)
    # The day is decided again and A000002 is approved automatically: out of the queue, ana's decision stands.
    con.execute("update decisioning.decisions set route = 'approve', suggested_decision = 'approve' where application_id = 'A000002'")
    con.execute("delete from review.review_queue where application_id = 'A000002'")
    refresh_final_decisions(con)
    _drop(folder, "b.jsonl", [{**_decision("A000002", "decline", reviewer="lee"), "amends": True}, _decision("A000002", "decline")])
    result = _ingest(con, folder, "run-2")
    assert (result.accepted, result.rejected, result.days) == (1, 1, ["2026-01-01"])
    amended = stored_outcomes(con).iloc[-1]
    assert (amended["decision"], amended["suggested_decision"], str(amended["application_date"])[:10]) == ("decline", "decline", "2026-01-01")
    refresh_final_decisions(con)
    final = con.execute("select route, final_decision, reviewer, overridden from review.final_decisions where application_id = 'A000002'").fetchone()
    assert final == ("approve", "decline", "lee", True)  # the reviewer's amended decision stands over the automatic approval
