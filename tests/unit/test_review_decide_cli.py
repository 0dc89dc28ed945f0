"""`keel review decide`: what it refuses at once, and the amendment of a review that stands outside the queue."""

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from keel.cli.review import review_app
from keel.review.ingest import ingest_inbox

DECISIONS = pd.DataFrame(
    {
        "application_id": ["A000001", "A000002", "A000003"],
        "application_date": pd.to_datetime(["2026-01-01"] * 3),
        "route": ["approve", "review", "review"],
        "suggested_decision": ["approve", "decline", "approve"],
        "qa_sampled": [False, False, False],
        "p_bad": [0.1, 0.5, 0.3],
        "reason_codes": ["[]", "[]", "[]"],
        "model_version": ["m-1"] * 3,
        "queued_at": ["2026-01-02T06:00:00+00:00"] * 3,
        "due_by": ["2026-01-03T06:00:00+00:00"] * 3,
    }
)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A home whose A000002 was reviewed (approve by ana), then its day decided again without it in review."""
    home = tmp_path / "home"
    monkeypatch.setenv("KEEL_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    inbox = home / "review" / "inbox"
    inbox.mkdir(parents=True)
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("create schema decisioning; create schema review")
        con.register("d", DECISIONS)
        con.execute("create table decisioning.decisions as select * from d")
        con.execute("create table review.review_queue as select * from d where route = 'review'")
        line = {"application_id": "A000002", "decision": "approve", "reviewer": "ana", "reason": "payslip seen", "reviewed_at": "2026-01-02T10:00:00+00:00"}
        (inbox / "a.jsonl").write_text(json.dumps(line) + "\n")
        ingest_inbox(con, inbox, home / "review" / "processed", home / "review" / "rejected", "run-1")
        con.execute("update decisioning.decisions set route = 'approve' where application_id = 'A000002'")
        con.execute("delete from review.review_queue where application_id = 'A000002'")
    return home


def _decide(*args: str):
    return CliRunner().invoke(review_app, ["decide", *args, "--reviewer", "lee", "--reason", "the payslip was forged"])


def test_the_standing_review_of_a_case_out_of_the_queue_can_be_amended(home):
    result = _decide("A000002", "decline", "--amend", "--json")
    assert result.exit_code == 0, result.output
    written = json.loads(result.output)
    assert written["amends"] is True and json.loads(Path(written["inbox_file"]).read_text())["decision"] == "decline"


@pytest.mark.parametrize(
    ("args", "refusal"),
    [
        (("A000002", "decline"), "application A000002 is not in the review queue"),  # a plain second decision
        (("A000001", "decline", "--amend"), "application A000001 is not in the review queue"),  # decided automatically, never reviewed
        (("A000003", "decline", "--amend"), "application A000003 has no review decision to amend"),
    ],
)
def test_what_is_refused_at_once(home, args, refusal):
    result = _decide(*args)
    assert result.exit_code == 1 and refusal in result.output
    assert not list((home / "review" / "inbox").glob("*.jsonl"))


@pytest.mark.parametrize(("reviewer", "reason", "refusal"), [("lee", "  ", "reason is empty"), ("", "payslip seen", "reviewer is empty")])
def test_a_decision_without_a_reviewer_or_a_reason_is_refused_before_it_reaches_the_inbox(home, reviewer, reason, refusal):
    result = CliRunner().invoke(review_app, ["decide", "A000003", "approve", "--reviewer", reviewer, "--reason", reason])
    assert result.exit_code == 1 and f"application A000003: {refusal}" in result.output
    assert not list((home / "review" / "inbox").glob("*.jsonl"))
