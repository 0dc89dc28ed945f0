"""Every fault a source can send, landed with `keel land --fault` and run together with one `keel run --json`.

Each fault goes to its own live day of a private demo home, through the real
daily job (contract, dbt, scoring, decisions): the day is accepted, partly
quarantined or blocked as the contract says, the message names what is wrong,
and the rows always balance.
"""

import datetime as dt
import json
from pathlib import Path

import pytest

from keel.contracts import load_contract
from tests.integration.helpers import keel, keel_json

pytestmark = pytest.mark.integration

FIRST_FAULT_DAY = dt.date(2026, 1, 4)  # the demo fixture ran 2026-01-01 .. 03

# fault -> (blocked, quarantined_by_reason, duplicates, words the message must contain)
EXPECTED = {
    "renamed_column": (False, {}, 0, []),
    "added_column": (False, {}, 0, ["channel"]),
    "missing_required_column": (True, None, 0, ["income"]),
    "type_change": (True, None, 0, ["amount", "whole number"]),
    "unparseable_values": (False, {"type": 2}, 0, []),
    "duplicate_rows": (False, {}, 3, []),
    "required_nulls": (False, {"not_null": 2}, 0, []),
    "out_of_range": (False, {"range": 3}, 0, []),  # row 5 fails two ranges: one row, two records
    "unknown_category": (False, {"allowed_values": 2}, 0, []),
    "empty_file": (True, None, 0, ["empty", "0 bytes"]),
    "header_only": (True, None, 0, ["no data rows"]),
    "truncated_file": (False, {"truncated_row": 1}, 0, []),
    "wrong_delimiter": (True, None, 0, ["semicolon"]),
    "non_utf8_bytes": (False, {"not_utf8": 1}, 0, []),
}
FAULT_DAYS = {fault: (FIRST_FAULT_DAY + dt.timedelta(days=i)).isoformat() for i, fault in enumerate(EXPECTED)}


@pytest.fixture(scope="module")
def every_fault_day_run(demo_copy):
    """Land every faulty day, then run them all with one `keel run --json`, each day its own run, as an operator would.

    One command rather than one per day: each `keel run` starts Python, loads
    the definitions and the executor's forkserver before its run (~9 s a day
    on 2026-12-07's slow hour, four days 91.5 s one at a time against 56.5 s
    in one command); the days' runs are the same either way.
    """
    home, _ = demo_copy
    for fault, day in FAULT_DAYS.items():
        keel(home, "land", "--date", day, "--fault", fault)
    dates = [arg for day in FAULT_DAYS.values() for arg in ("--date", day)]
    completed = keel(home, "run", *dates, "--json", check=False)
    return home, completed, json.loads(completed.stdout)


@pytest.fixture(scope="module")
def runs(every_fault_day_run):
    """Each fault's day's JSON summary."""
    home, _completed, together = every_fault_day_run
    by_day = {summary["date"]: summary for summary in together["days"]}
    return home, {fault: by_day[day] for fault, day in FAULT_DAYS.items()}


def test_the_blocked_days_fail_the_command_after_every_day_ran(every_fault_day_run):
    _home, completed, together = every_fault_day_run
    assert "Traceback" not in completed.stderr and "Stack Trace" not in completed.stderr, "a blocked day is the contract at work, not a crash"
    assert completed.returncode == 1, "a blocked day makes the command fail"
    assert [summary["date"] for summary in together["days"]] == list(FAULT_DAYS.values()), "every day ran, oldest first"
    blocked_days = [FAULT_DAYS[fault] for fault, (blocked, *_rest) in EXPECTED.items() if blocked]
    assert together["blocked_days"] == together["failed_days"] == blocked_days


@pytest.mark.parametrize("fault", list(EXPECTED))
def test_fault_outcome_message_and_balance(runs, fault):
    _home, results = runs
    summary = results[fault]
    blocked, by_reason, duplicates, words = EXPECTED[fault]
    assert summary["received"] == summary["accepted"] + summary["quarantined"] + summary["duplicates"], summary
    assert summary["blocked"] is blocked
    if blocked:
        assert summary["success"] is False
        assert summary["accepted"] == 0 and summary["decided_auto"] + summary["sent_to_review"] == 0
        assert summary["block_reason"] and f"applications_{FAULT_DAYS[fault]}.csv" in summary["block_reason"]
        assert summary["failure"].startswith("day blocked:")
        for word in words:
            assert word in summary["block_reason"], (word, summary["block_reason"])
    else:
        assert summary["success"] is True, summary["failure"]
        assert summary["block_reason"] is None
        assert summary["accepted"] > 0
        assert summary["decided_auto"] + summary["sent_to_review"] == summary["accepted"], "every good row is decided"
    if by_reason is not None:
        assert summary["quarantined_by_reason"] == by_reason
    assert summary["duplicates"] == duplicates
    for word in words if not blocked else []:
        assert any(word in (check["description"] or "") for check in summary["failed_checks"]), summary["failed_checks"]


def test_an_added_column_is_a_warning_not_a_failure(runs):
    _home, results = runs
    summary = results["added_column"]
    (warning,) = [c for c in summary["failed_checks"] if c["check"] == "raw_applications:no_unexpected_columns"]
    assert warning["severity"] == "WARN"


def test_a_renamed_column_in_the_aliases_is_mapped(runs):
    _home, results = runs
    summary = results["renamed_column"]
    assert summary["quarantined"] == 0 and summary["accepted"] == summary["received"]
    assert not [c for c in summary["failed_checks"] if c["check"].startswith("raw_applications")]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_parquet_and_json_lines_landing_files_run_like_csv(demo_copy, fmt):
    home, summary = demo_copy
    day = "2026-01-20" if fmt == "parquet" else "2026-01-21"
    landed = keel_json(home, "land", "--date", day, "--format", fmt)
    assert any(path.endswith(f"applications_{day}.{fmt}") for path in landed["files"])
    result = keel_json(home, "run", "--date", day)
    assert result["received"] == 100 and result["accepted"] == 100
    assert result["decided_auto"] + result["sent_to_review"] == 100


def test_an_overdue_day_fails_the_delivery_check(demo_copy):
    """No file for the next day, long past its cutoff: the freshness job reports an outage."""
    home, _ = demo_copy
    completed = keel(home, "freshness", "--json", check=False)
    assert completed.returncode == 1
    result = json.loads(completed.stdout)
    (check,) = result["checks"]
    assert check["check"] == "raw_applications:source_delivered_on_time" and check["passed"] is False
    assert "source outage" in check["message"] and "has not arrived" in check["message"]


def test_a_corrected_outcome_and_one_naming_no_application(runs):
    """The source sends an outcome again, flipped, and one for an id keel never received: the day runs, both are told."""
    home, _ = runs
    outcomes = home / "landing" / "outcomes"
    # The first outcome of 2026-01-08 (landed and run with the faults) settles an application of 2026-01-01, a day the demo decided.
    first, second = (outcomes / "outcomes_2026-01-08.csv").read_text().splitlines()[1:3]
    application_id, _, status = first.split(",")
    flipped = "good" if status == "bad" else "bad"
    keel_json(home, "land", "--date", "2026-01-22")
    later = outcomes / "outcomes_2026-01-22.csv"
    delivered = later.read_text().splitlines()
    # The second outcome of 2026-01-08 is corrected too, with a status the contract does not know.
    miscorrected = second.split(",")[0]
    later.write_text("\n".join([*delivered, f"{application_id},2026-01-22,{flipped}", "A999999,2026-01-22,bad", f"{miscorrected},2026-01-22,Late"]) + "\n")
    completed = keel(home, "run", "--date", "2026-01-22", "--json", check=False)
    summary = json.loads(completed.stdout)
    assert summary["success"], summary["failure"]
    assert summary["outcomes_quarantined_by_reason"] == {"allowed_values": 1}
    # Its outcome of 2026-01-08 was taken in, but that is not the correction: the correction is held back, for the source to resend.
    [held] = keel_json(home, "quarantine", "--source", "outcomes", "--date", "2026-01-22")["rows"]
    assert (held["application_id"], held["row_number"]) == (miscorrected, len(delivered) + 2)
    (check,) = [c for c in summary["failed_checks"] if c["check"] == "raw_outcomes:outcomes_name_received_applications"]
    assert check["severity"] == "WARN"
    # Besides the made-up id, an outcome of 2026-01-15 whose application the truncated_file fault quarantined.
    assert f"of {len(delivered) + 1} outcomes name an application keel never received" in check["description"]
    assert f"outcomes_2026-01-22.csv row {len(delivered) + 1} application_id A999999" in check["description"]
    assert application_id not in check["description"], "a correction names an application keel received"
    story = keel_json(home, "explain", application_id)
    assert story["outcome"] == {
        "repayment_status": flipped, "outcome_date": "2026-01-22", "corrects": [{"repayment_status": status, "outcome_date": "2026-01-08"}]
    }


@pytest.mark.parametrize("fault", ["unparseable_values", "missing_required_column", "truncated_file"])
def test_keel_explain_tells_why_a_quarantined_application_was_not_decided(runs, fault):
    """An auditor or an applicant asks about one application the contract held back: the file, the row and the reason."""
    import duckdb

    home, _ = runs
    day = FAULT_DAYS[fault]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        held = con.execute(
            'select application_id, row_number, "column", reason from raw.applications_quarantine '
            "where partition_date = ? and application_id is not null order by row_number limit 1",
            [day],
        ).fetchone()
    assert held is not None, f"the {fault} day's quarantine records carry the application id"
    application_id, row_number, column, reason = held
    completed = keel(home, "explain", application_id, check=False)
    assert completed.returncode == 1 and "Traceback" not in completed.stderr
    assert f"no decision is recorded for {application_id}" in completed.stderr
    assert f"{day}: applications_{day}.csv row {row_number}, quarantined:" in completed.stderr and reason in completed.stderr
    as_json = keel(home, "explain", application_id, "--json", check=False)
    record = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and record["decided"] is False
    assert [(d["day"], d["row_number"]) for d in record["held_back"]] == [(day, row_number)]
    assert column in {p["column"] for p in record["held_back"][0]["problems"]}


def test_the_evidence_bundle_hides_the_values_quarantine_reasons_quote(runs, tmp_path):
    """Pseudonymized evidence: a quarantined row's value is personal data wherever it appears, in its reason too."""
    import pandas as pd

    home, _ = runs
    day = FAULT_DAYS["unparseable_values"]
    out = tmp_path / "bundle"
    keel(home, "audit", "export", "--from", day, "--to", day, "--out", str(out), env={"KEEL_PSEUDONYM_KEY": "test-key-not-secret"})
    quarantine = pd.read_parquet(out / "applications_quarantine.parquet")
    assert sorted(quarantine["column"]) == ["age", "income"]
    assert quarantine["value_found"].str.startswith("p_").all()
    for value, reason in zip(quarantine["value_found"], quarantine["reason"]):
        assert f"found '{value}'" in reason and "abc" not in reason and "n/a!" not in reason, reason


def test_a_broken_outcomes_file_is_held_back_and_the_day_is_still_decided(demo_copy):
    """Outcomes are labels for past days: a bad file of them must not stop today's decisions."""
    home, _ = demo_copy
    day = "2026-01-23"
    keel_json(home, "land", "--date", day)
    outcomes = home / "landing" / "outcomes" / f"outcomes_{day}.csv"
    good = outcomes.read_text()
    outcomes.write_text(good.replace("status", "repayment", 1))
    completed = keel(home, "run", "--date", day, "--json", check=False)
    summary = json.loads(completed.stdout)
    assert completed.returncode == 0 and summary["success"], summary["failure"]
    assert summary["decided_auto"] + summary["sent_to_review"] == summary["accepted"] == 100
    assert summary["outcomes_blocked"] is True and "required column 'status' is missing" in summary["outcomes_block_reason"]
    assert summary["outcomes_accepted"] == 0 and summary["outcomes_quarantined"] == summary["outcomes_received"] == 100
    (check,) = [c for c in summary["failed_checks"] if c["check"] == "raw_outcomes:contract_schema"]
    assert check["severity"] == "ERROR"
    # The source resends the file, one row still wrong: the rest are taken in, that row is quarantined.
    rows = good.splitlines()
    rows[1] = rows[1].rsplit(",", 1)[0] + ",Late"
    outcomes.write_text("\n".join(rows) + "\n")
    summary = keel_json(home, "run", "--date", day)
    assert summary["success"] and summary["outcomes_blocked"] is False
    assert (summary["outcomes_accepted"], summary["outcomes_quarantined"]) == (99, 1)
    assert summary["outcomes_quarantined_by_reason"] == {"allowed_values": 1}


def test_a_day_with_only_outcomes_takes_them_in(demo_copy):
    """After the demo calendar's last application day, outcomes still land for a week; `keel run` takes them in."""
    home, _ = demo_copy
    landed = keel_json(home, "land", "--date", "2026-02-01")
    assert [Path(p).parent.name for p in landed["files"]] == ["outcomes"]
    summary = keel_json(home, "run", "--date", "2026-02-01")
    assert summary["success"] and summary["outcomes_only"] is True
    assert summary["received"] == summary["decided_auto"] + summary["sent_to_review"] == 0
    assert summary["outcomes_received"] == summary["outcomes_accepted"] == 100
    # The applications of 2026-01-25 never landed in this home: the check names them rather than dropping them silently.
    (check,) = [c for c in summary["failed_checks"] if c["check"] == "raw_outcomes:outcomes_name_received_applications"]
    assert check["description"].startswith("100 of 100 outcomes name an application keel never received")


def test_an_application_sent_again_on_a_later_day_is_quarantined_and_the_day_replays(demo_copy):
    """A resubmitted application id failed the whole day at the feature mart's key; now only its row is set aside."""
    home, _ = demo_copy
    day = "2026-01-24"
    keel_json(home, "land", "--date", day)
    applications = home / "landing" / "applications"
    first_row = (applications / "applications_2026-01-01.csv").read_text().splitlines()[1]
    application_id = first_row.split(",")[0]
    later = applications / f"applications_{day}.csv"
    later.write_text(later.read_text() + first_row.replace("2026-01-01", day) + "\n")
    summary = keel_json(home, "run", "--date", day)
    assert summary["success"], summary["failure"]
    assert (summary["received"], summary["accepted"], summary["quarantined"]) == (101, 100, 1)
    assert summary["quarantined_by_reason"] == {"received_on_another_day": 1}
    assert summary["decided_auto"] + summary["sent_to_review"] == 100
    story = keel_json(home, "explain", application_id)
    assert story["application_date"] == "2026-01-01", "the first decision stands"
    assert story["sent_again"] == [{"day": day, "source_file": later.name, "row_number": 101}]
    replay = keel(home, "replay", day, "--json", check=False)
    assert json.loads(replay.stdout)["match"] is True, replay.stdout


def test_keel_quarantine_lists_the_rows_held_back_exports_a_day_as_received_and_status_raises_the_recent_ones(runs, tmp_path):
    """The rows the contract held back, for the operator to send back to the source; the ones taken in since are not listed."""
    import csv

    home, _ = runs
    listed = keel_json(home, "quarantine", "--limit", "1000")
    held = {entry["date"]: entry["rows"] for entry in listed["days"]}
    for fault, rows in {"unparseable_values": 2, "required_nulls": 2, "out_of_range": 3, "unknown_category": 2, "truncated_file": 1,
                        "non_utf8_bytes": 1, "missing_required_column": 100}.items():
        assert held[FAULT_DAYS[fault]] == rows, fault
    assert "2026-01-24" not in held, "an id sent again on a later day was taken in on its first: nothing is held back"
    assert listed["rows_held_back"] == sum(held.values()) == len(listed["rows"])
    [no_key] = [row for row in listed["rows"] if row["date"] == FAULT_DAYS["required_nulls"] and row["application_id"] is None]
    assert [p["check"] for p in no_key["problems"]] == ["not_null"]

    day = FAULT_DAYS["unparseable_values"]
    out = tmp_path / "held_back.csv"
    exported = keel_json(home, "quarantine", "--date", day, "--export", str(out))
    assert exported["export"] == {"path": str(out), "rows": 2, "files": [f"applications_{day}.csv"]}
    with out.open() as sheet, (home / "landing" / "applications" / f"applications_{day}.csv").open() as landed:
        written, received = list(csv.reader(sheet)), list(csv.reader(landed))
    assert [line[0] for line in written[1:]] == ["2", "4"]
    assert [line[1:-1] for line in written] == [received[0], received[2], received[4]], "the rows as the source sent them"
    assert written[1][-1].startswith("age (type): ") and "'abc'" in written[1][-1] and written[2][-1].startswith("income (type): ")

    outcomes = keel_json(home, "quarantine", "--source", "outcomes")
    assert [(e["date"], e["rows"], e["rows_by_check"]) for e in outcomes["days"]] == [
        ("2026-01-22", 1, {"allowed_values": 1}), ("2026-01-23", 1, {"allowed_values": 1})
    ]

    status = json.loads(keel(home, "status", "--json", check=False).stdout)
    assert status["held_back"] == {"applications": {"rows": listed["rows_held_back"], "days": len(held)}, "outcomes": {"rows": 2, "days": 2}}
    in_force = load_contract(Path(__file__).parents[2] / "policies" / "contracts" / "applications.yaml").version
    assert status["contract"] == {"in_force": in_force, "last_day_taken_in_under": in_force}
    # The last decided day is 2026-01-24: the week before it holds the last fault day and the outcomes held back.
    raised = [item["message"] for item in status["attention"] if item["kind"] == "rows_held_back"]
    assert raised == [
        f"{FAULT_DAYS['non_utf8_bytes']}: 1 application held back, without a decision (applications_{FAULT_DAYS['non_utf8_bytes']}.csv: not_utf8 1)",
        "2026-01-22: 1 outcome held back, labels monitoring lacks (outcomes_2026-01-22.csv: allowed_values 1)",
        "2026-01-23: 1 outcome held back, labels monitoring lacks (outcomes_2026-01-23.csv: allowed_values 1)",
    ]

    refused = keel(home, "quarantine", "--export", str(out), check=False)
    assert refused.returncode == 1 and "--export needs --date" in refused.stderr
    nothing = keel(home, "quarantine", "--date", FAULT_DAYS["renamed_column"], "--export", str(tmp_path / "none.csv"), check=False)
    assert nothing.returncode == 1 and "is held back: nothing to export" in nothing.stderr and not (tmp_path / "none.csv").exists()
    assert "expected one of applications, outcomes" in keel(home, "quarantine", "--source", "payments", check=False).stderr


def test_a_contract_dry_run_judges_each_fault_day_as_its_run_did_and_names_the_rows_a_change_takes_in(runs, tmp_path):
    """`keel contract dry-run` over every fault day of the real pipeline: the contract in force gives each run's own counts."""
    home, results = runs
    contract = (Path(__file__).parents[2] / "policies" / "contracts" / "applications.yaml").read_text()
    candidate = tmp_path / "applications.yaml"
    candidate.write_text(
        contract.replace("version: 1.1.0", "version: 1.2.0")
        .replace("categories: [owner, rent, parents, other, priv, ignore]", "categories: [owner, rent, parents, other, priv, ignore, castle]")
        .replace("    min: 18\n    max: 100\n", "    min: 18\n    max: 150\n")
    )
    dry = keel_json(home, "contract", "dry-run", str(candidate), "--days", "60")
    by_day = {day["date"]: day for day in dry["days"]}
    for fault, summary in results.items():
        day = by_day[FAULT_DAYS[fault]]
        if "file_problem" in day:
            assert EXPECTED[fault][0] and summary["received"] == 0, fault
            continue
        assert (day["now"]["taken_in"], day["now"]["held_back"], day["now"]["duplicates"], day["now"]["blocked"]) == (
            summary["accepted"], summary["quarantined"], summary["duplicates"], summary["blocked"]
        ), fault
    # The id sent again on 2026-01-24 (earlier in this module) stays held back: its first delivery stands.
    assert by_day["2026-01-24"]["now"]["held_back"] == by_day["2026-01-24"]["after"]["held_back"] == 1
    # Row 5 of the out-of-range day is 150 years old and asks for a 0-month loan: the wider age range alone takes nothing in.
    assert dry["flips"] == {"held_back->taken_in": 1} and dry["days_to_run_again"] == [FAULT_DAYS["unknown_category"]]
    [row] = dry["flipped_rows"]
    held = keel_json(home, "quarantine", "--date", FAULT_DAYS["unknown_category"])["rows"]
    [castle] = [r for r in held if any(p["column"] == "home" for p in r["problems"])]
    assert (row["row_number"], row["key"], row["checks"]) == (castle["row_number"], castle["application_id"], ["home: allowed_values"])
    assert {(c["column"], c["severity"]) for c in dry["downstream"]} == {("home", "error"), ("age", "error")}
    assert dry["changed"]["columns.age.max"] == {"from": 100, "to": 150} and dry["version_not_bumped"] is False
    text = keel(home, "contract", "dry-run", str(candidate), "--days", "60").stdout
    assert f"keel run --date {FAULT_DAYS['unknown_category']}" in text and "nothing was changed (a dry run)" in text
    assert keel_json(home, "quarantine", "--date", FAULT_DAYS["unknown_category"])["rows"] == held, "a dry run writes nothing"

    # Without a candidate: the contract in force against what each day's run recorded, which it judged itself.
    recorded = keel_json(home, "contract", "dry-run", "--days", "60")
    assert recorded["against"] == "recorded" and recorded["flipped"] == 0 and recorded["days_to_run_again"] == []
    compared = [day for day in recorded["days"] if "now" in day]
    assert {day["date"] for day in compared} >= {FAULT_DAYS[f] for f in EXPECTED if not by_day[FAULT_DAYS[f]].get("file_problem")}
    assert [day["date"] for day in compared if day["now"] != day["after"]] == []
    assert by_day[FAULT_DAYS["missing_required_column"]]["now"]["blocked"] is True
    assert {day["date"]: day["now"] for day in compared}[FAULT_DAYS["missing_required_column"]]["blocked"] is True
