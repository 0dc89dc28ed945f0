"""Human review as a reviewer and an operator use it: list, decide, a bad inbox file, spreadsheets, ingest.

Runs against a private copy of the demo home, through the real CLI, the real
review job on the Dagster instance and the real DuckDB file.
"""

import csv
import json
import re
from pathlib import Path

import pytest

from tests.integration.helpers import keel, keel_json

pytestmark = pytest.mark.integration

DAY = "2026-01-02"


@pytest.fixture(scope="module")
def home(demo_copy):
    home, _summary = demo_copy
    return home


def _final(home):
    import duckdb

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return {row[0]: row[1:] for row in con.execute(
            "select application_id, final_decision, decided_by, reviewer, overridden from review.final_decisions"
        ).fetchall()}


def test_the_demo_leaves_every_application_with_a_final_decision(home, demo_copy):
    _home, summary = demo_copy
    final = _final(home)
    assert len(final) == summary["accepted"]
    pending = [app for app, row in final.items() if row[0] == "pending"]
    assert len(pending) == summary["sent_to_review"], "review cases stay pending until a person decides"
    assert all(row[1] == "auto" for row in final.values() if row[0] != "pending")


def test_list_shows_pending_cases_with_what_a_reviewer_needs(home):
    listed = keel_json(home, "review", "list", "--date", DAY)
    assert listed["pending"] == len(listed["cases"]) > 0
    case = listed["cases"][0]
    assert case["application_date"] == DAY and case["status"] == "pending"
    assert case["suggested_decision"] in ("approve", "decline") and case["due_by"] and case["reason_codes"]
    # Explained when listed, with the model that scored the case: "feature=value (low|high) +0.12 ; ...".
    explained = [c["top_features"] for c in listed["cases"] if c["top_features"]]
    assert len(explained) >= len(listed["cases"]) * 0.9
    assert all(re.fullmatch(r"[a-z_]+=[^;]+ [+-]\d\.\d\d( ; [a-z_]+=[^;]+ [+-]\d\.\d\d){0,2}", text) for text in explained), explained[:3]
    # The demo's days are long past: every pending case is past its SLA.
    assert listed["overdue"] == listed["pending"] and all(c["overdue"] for c in listed["cases"])
    # Why each case is here, as the policy words it: the codes recorded, in their order, each with its sentence.
    for c in listed["cases"]:
        assert [r["code"] for r in c["reasons"]] == json.loads(c["reason_codes"])
        assert all(r["text"] and "no description is recorded" not in r["text"] for r in c["reasons"]), c["reasons"]


def test_list_limit_shows_the_oldest_cases_and_still_counts_all(home):
    every = keel_json(home, "review", "list", "--date", DAY)
    first_two = keel_json(home, "review", "list", "--date", DAY, "--limit", "2")
    assert [c["application_id"] for c in first_two["cases"]] == [c["application_id"] for c in every["cases"][:2]]
    assert (first_two["pending"], first_two["overdue"]) == (every["pending"], every["overdue"])
    text = keel(home, "review", "list", "--date", DAY, "--limit", "2").stdout
    assert f"showing the oldest 2 of {every['pending']}" in text and "pending, OVERDUE" in text
    first_case = every["cases"][0]
    why = "    why: " + "; ".join(f"{r['text']} [{r['code']}]" for r in first_case["reasons"])
    assert text.splitlines()[1] == why, "the line under each case says why it is in review"


def test_decide_then_ingest_makes_the_reviewers_decision_final(home):
    cases = keel_json(home, "review", "list", "--date", DAY)["cases"]
    first, second = cases[0], cases[1]
    overruled = "approve" if first["suggested_decision"] == "decline" else "decline"
    keel(home, "review", "decide", first["application_id"], overruled, "--reviewer", "mchen", "--reason", "payslip checked")
    keel(home, "review", "decide", second["application_id"], second["suggested_decision"], "--reviewer", "ana", "--reason", "as suggested")
    # Not taken in yet: a second decision on the case is refused now, not set aside later where nobody looks.
    again = keel(home, "review", "decide", first["application_id"], first["suggested_decision"], "--reviewer", "lee", "--reason", "x", check=False)
    assert again.returncode == 1 and f"already has a decision waiting in the inbox ({overruled} by mchen" in again.stderr
    waiting = {c["application_id"]: c["waiting_in_inbox"] for c in keel_json(home, "review", "list", "--date", DAY)["cases"]}
    assert waiting[first["application_id"]]["reviewer"] == "mchen" and waiting[cases[2]["application_id"]] is None
    # A file with each kind of bad line, dropped by another tool.
    auto = next(app for app, row in _final(home).items() if row[1] == "auto")
    good_third = cases[2]
    bad_lines = [
        "{broken json",
        json.dumps({"application_id": "A000001", "decision": "approve", "reviewer": "x", "reason": "y", "reviewed_at": "2026-01-02T10:00:00+00:00"}),
        json.dumps({"application_id": auto, "decision": "approve", "reviewer": "x", "reason": "y", "reviewed_at": "2026-01-02T10:00:00+00:00"}),
        json.dumps({"application_id": good_third["application_id"], "decision": "perhaps", "reviewer": "x", "reason": "y", "reviewed_at": "2026-01-02T10:00:00+00:00"}),
        json.dumps({"application_id": first["application_id"], "decision": "approve", "reviewer": "x", "reason": "again", "reviewed_at": "2026-01-02T10:00:00+00:00"}),
        json.dumps({"application_id": good_third["application_id"], "decision": "approve", "reviewer": "lee", "reason": "fine", "reviewed_at": "2026-01-02T10:00:00"}),
        json.dumps({"application_id": good_third["application_id"], "decision": "approve", "reviewer": "lee", "reason": "fine", "reviewed_at": "2026-01-02T11:00:00+00:00"}),
    ]
    (home / "review" / "inbox" / "batch-from-tool.jsonl").write_text("\n".join(bad_lines) + "\n")

    result = keel_json(home, "review", "ingest")
    assert result["success"] and result["files"] == 3
    assert result["accepted"] == 3 and result["rejected"] == 6
    assert result["days_rebuilt"] == [DAY]
    refused = [json.loads(line) for line in (home / "review" / "rejected" / "batch-from-tool.jsonl.rejected.jsonl").read_text().splitlines()]
    reasons = [r["reason"] for r in refused]
    assert any("malformed JSON" in r for r in reasons)
    assert any("unknown application A000001" in r or "A000001 is not in the review queue" in r for r in reasons)
    assert any("decided automatically" in r for r in reasons)
    assert any("'perhaps'" in r for r in reasons)
    assert any("already has a review decision" in r for r in reasons)
    assert any("no timezone" in r for r in reasons)
    assert not list((home / "review" / "inbox").glob("*.jsonl"))

    final = _final(home)
    assert final[first["application_id"]] == (overruled, "reviewer", "mchen", True)
    assert final[second["application_id"]] == (second["suggested_decision"], "reviewer", "ana", False)
    assert final[good_third["application_id"]][:3] == ("approve", "reviewer", "lee")


def test_a_second_decision_from_the_cli_is_refused_at_once(home):
    decided = keel_json(home, "review", "list", "--date", DAY, "--all")["cases"]
    done = next(c for c in decided if c["status"] == "decided")
    refused = keel(home, "review", "decide", done["application_id"], "approve", "--reviewer", "x", "--reason", "y", check=False)
    assert refused.returncode != 0 and "already has a review decision" in refused.stderr + refused.stdout
    assert f"to correct it: keel review decide {done['application_id']} approve --amend" in refused.stderr


def test_a_reviewer_corrects_a_decision_with_an_amendment_and_both_stay_on_record(home, tmp_path):
    import duckdb

    done = next(c for c in keel_json(home, "review", "list", "--date", DAY, "--all")["cases"] if c["status"] == "decided")
    case, first = done["application_id"], (done["decision"], done["reviewer"])
    corrected = "approve" if first[0] == "decline" else "decline"
    pending = keel_json(home, "review", "list", "--date", DAY)["cases"][0]["application_id"]
    nothing = keel(home, "review", "decide", pending, "approve", "--amend", "--reviewer", "lee", "--reason", "x", check=False)
    assert nothing.returncode == 1 and f"application {pending} has no review decision to amend" in nothing.stderr

    written = keel_json(home, "review", "decide", case, corrected, "--amend", "--reviewer", "lee", "--reason", "the payslip was forged")
    assert written["amends"] is True and json.loads((home / "review" / "inbox" / written["inbox_file"]).read_text())["amends"] is True
    # Named to sort after the case's earlier decision files, should both arrive within one tick of the file system's clock.
    assert re.fullmatch(rf"decision-{case}-\d{{8}}T\d{{12}}-amendment\.jsonl", Path(written["inbox_file"]).name)
    waiting = keel(home, "review", "list", "--date", DAY, "--all").stdout
    assert f"decided: {first[0]} by {first[1]}, an amendment to {corrected} by lee waiting in the inbox" in waiting
    result = keel_json(home, "review", "ingest")
    assert (result["accepted"], result["rejected"], result["days_rebuilt"]) == (1, 0, [DAY])

    listed = {c["application_id"]: c for c in keel_json(home, "review", "list", "--date", DAY, "--all")["cases"]}
    assert (listed[case]["decision"], listed[case]["reviewer"], listed[case]["reason"]) == (corrected, "lee", "the payslip was forged")
    assert f"decided: {corrected} by lee" in keel(home, "review", "list", "--date", DAY, "--all").stdout
    assert _final(home)[case] == (corrected, "reviewer", "lee", corrected != done["suggested_decision"])
    story = keel_json(home, "explain", case)
    assert (story["final_decision"], story["reviewer"]) == (corrected, "lee")
    assert [(a["decision"], a["reviewer"]) for a in story["review_amends"]] == [first]
    assert f"It amends the earlier review decision(s): {first[0]} by {first[1]}" in keel(home, "explain", case).stdout
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        recorded = con.execute(
            "select final_decision, reviewer from audit.decision_ledger where event_type = 'review' and application_id = ? "
            "and batch_seq = (select max(batch_seq) from audit.ledger_batches where event_type = 'review' and ledger_day = ?)",
            [case, DAY],
        ).fetchall()
    assert recorded == [first, (corrected, "lee")]
    keel(home, "audit", "verify")

    # Another tool amends it again, in a file whose name sorts before the earlier ones: the ledger keeps the order
    # they were taken in, and the day's evidence bundle still verifies.
    again = {"application_id": case, "decision": first[0], "reviewer": "ana", "reason": "second opinion", "reviewed_at": "2026-01-03T09:00:00+00:00", "amends": True}
    (home / "review" / "inbox" / "0-corrections.jsonl").write_text(json.dumps(again) + "\n")
    assert keel_json(home, "review", "ingest")["accepted"] == 1
    assert _final(home)[case][:3] == (first[0], "reviewer", "ana")
    assert [(a["decision"], a["reviewer"]) for a in keel_json(home, "explain", case)["review_amends"]] == [first, (corrected, "lee")]
    keel(home, "audit", "verify")
    bundle = tmp_path / "evidence"
    keel(home, "audit", "export", "--from", DAY, "--to", DAY, "--out", str(bundle))
    verified = keel(home, "audit", "verify-bundle", str(bundle), check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_spreadsheet_round_trip(home, tmp_path):
    sheet = tmp_path / "queue.csv"
    exported = keel_json(home, "review", "export", "--date", DAY, "--out", str(sheet))
    rows = list(csv.DictReader(sheet.open()))
    assert len(rows) == exported["cases"] > 0
    rows[0].update(decision="Decline", reviewer="sam", reason="debt too high")
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    imported = keel_json(home, "review", "import", str(sheet))
    assert imported["imported"] == 1
    # Imported again before the inbox is taken in: refused at once, naming the row; the case is no longer exported.
    again = keel(home, "review", "import", str(sheet), check=False)
    assert again.returncode == 1 and f"row 2 ({rows[0]['application_id']}): already has a decision waiting in the inbox (decline by sam" in again.stderr
    left = keel_json(home, "review", "export", "--date", DAY, "--out", str(tmp_path / "again.csv"))
    assert (left["cases"], left["waiting_in_inbox"]) == (exported["cases"] - 1, 1)
    result = keel_json(home, "review", "ingest")
    assert result["accepted"] == 1 and result["rejected"] == 0
    assert _final(home)[rows[0]["application_id"]][:3] == ("decline", "reviewer", "sam")


def test_review_measures_are_checks_held_to_the_policy(home):
    result = keel_json(home, "review", "ingest")
    failing = {c["check"]: c["description"] for c in result["failed_checks"]}
    # The demo's cases are months old: the SLA check must say so.
    assert "final_decisions:reviews_within_sla" in failing and "24-hour SLA" in failing["final_decisions:reviews_within_sla"]
    assert result["files"] == 0 and result["days_rebuilt"] == []
