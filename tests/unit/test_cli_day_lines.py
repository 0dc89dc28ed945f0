"""What `keel run` and `keel demo` print for a day (keel/cli/main.py `day_lines`)."""

from keel.cli.main import candidate_line, day_lines, total_line
from keel.runs import DaySummary, sum_days

REASON = "applications_2026-01-28.csv: required column 'income' is missing"


def _day(**changes) -> dict:
    day = {
        "date": "2026-01-28", "received": 100, "accepted": 100, "quarantined": 0, "duplicates": 0, "decided_auto": 53,
        "sent_to_review": 47, "model_version": "m-1", "blocked": False, "success": True, "failure": None,
        "failed_checks": [], "run_ids": ["run-1"],
    }
    return day | changes


def test_a_clean_day_is_one_line():
    assert day_lines(_day()) == ["2026-01-28: ok  received 100  accepted 100  quarantined 0  duplicates 0  auto 53  review 47  model m-1"]


def test_a_failed_check_is_named_with_its_severity_and_the_run_to_open(monkeypatch):
    monkeypatch.setenv("KEEL_UI_URL", "http://127.0.0.1:3123/")
    check = {"check": "segment_outcomes:approval_rates_meet_four_fifths_rule", "severity": "WARN", "description": "job=partime approval ratio 0.08\nmore"}
    lines = day_lines(_day(failed_checks=[check]))
    assert lines[1:] == [
        "  check segment_outcomes:approval_rates_meet_four_fifths_rule failed (WARN): job=partime approval ratio 0.08",
        "  the run's steps and logs: http://127.0.0.1:3123/runs/run-1",
    ]


def test_a_blocked_day_gives_its_reason_once(monkeypatch):
    monkeypatch.delenv("KEEL_UI_URL", raising=False)
    blocking = {"check": "raw_applications:contract_schema", "severity": "ERROR", "description": REASON}
    lines = day_lines(_day(blocked=True, success=False, accepted=0, failure=f"day blocked: {REASON}", failed_checks=[blocking], run_ids=["a", "b"]))
    assert lines[0].startswith("2026-01-28: BLOCKED")
    assert lines[1:] == [f"  day blocked: {REASON}", "  the run's steps and logs: http://127.0.0.1:3000/runs/b"]


def test_quarantined_outcome_rows_are_counted_by_reason_after_the_day():
    outcomes = {
        "outcomes_received": 100, "outcomes_accepted": 97, "outcomes_quarantined": 3, "outcomes_duplicates": 0,
        "outcomes_quarantined_by_reason": {"not_null": 1, "allowed_values": 2}, "outcomes_blocked": False,
    }
    assert day_lines(_day(**outcomes))[1] == (
        "  outcomes: received 100  accepted 97  quarantined 3 (allowed_values 2, not_null 1)  duplicates 0: "
        "each row's reason in raw.outcomes_quarantine"
    )


def test_a_held_back_outcomes_file_says_the_days_decisions_stand():
    outcomes = {
        "outcomes_received": 100, "outcomes_accepted": 0, "outcomes_quarantined": 100, "outcomes_duplicates": 0,
        "outcomes_quarantined_by_reason": {"missing_required_column": 100}, "outcomes_blocked": True,
    }
    lines = day_lines(_day(**outcomes))
    assert lines[0].startswith("2026-01-28: ok ")
    assert lines[1].endswith("quarantined 100 (missing_required_column 100)  duplicates 0: the file is held back, the day's decisions are not: resend it")


def test_outcomes_that_all_passed_add_no_line():
    assert len(day_lines(_day(outcomes_received=100, outcomes_accepted=100, outcomes_quarantined=0, outcomes_duplicates=0))) == 1


def test_a_day_with_only_outcomes_says_so_instead_of_zero_applications():
    outcomes = {
        "outcomes_only": True, "received": 0, "accepted": 0, "decided_auto": 0, "sent_to_review": 0, "model_version": None,
        "outcomes_received": 100, "outcomes_accepted": 100, "outcomes_quarantined": 0, "outcomes_duplicates": 0,
    }
    assert day_lines(_day(**outcomes)) == [
        "2026-01-28: ok  no applications landed; the day's outcomes were taken in",
        "  outcomes: received 100  accepted 100  quarantined 0  duplicates 0: every row passed the contract",
    ]


def test_the_totals_count_the_outcomes_taken_in_beside_the_applications():
    days = [
        DaySummary("2026-01-27", received=100, accepted=99, quarantined=1, decided_auto=60, sent_to_review=39, outcomes_received=30, outcomes_accepted=30),
        DaySummary("2026-01-28", received=100, accepted=100, decided_auto=53, sent_to_review=47, outcomes_received=12, outcomes_accepted=10, outcomes_quarantined=1, outcomes_duplicates=1),
    ]
    assert total_line(sum_days(days)) == (
        "total: received 200  accepted 199  quarantined 1  duplicates 0  auto 113  review 86; "
        "outcomes received 42  accepted 40  quarantined 1  duplicates 1"
    )


def test_an_outcomes_only_day_names_the_applications_file_the_sensor_rejected():
    rejected = "the landing sensor rejected a file for the day, now in /home/landing/rejected: 'Applications_2026-01-28.csv': not a landing file name"
    outcomes = {"outcomes_received": 5, "outcomes_accepted": 5, "outcomes_quarantined": 0, "outcomes_duplicates": 0}
    lines = day_lines(_day(outcomes_only=True, applications_rejected=rejected, **outcomes))
    assert lines[:2] == ["2026-01-28: ok  no applications landed; the day's outcomes were taken in", f"  applications: {rejected}"]


def test_a_retraining_that_gave_the_champion_itself_is_not_offered_for_approval():
    candidate = {"model_version": "m-993e8f582615", "incident": "drift:2026-01-05", "gate_passed": True, "same_as_champion": True}
    line = candidate_line(candidate)
    assert line.startswith("retraining for drift:2026-01-05 gave the champion itself, m-993e8f582615") and "nothing to approve" in line
    assert "approve / promote" not in line
    new = candidate_line(candidate | {"model_version": "m-0123456789ab", "same_as_champion": False})
    assert new == "candidate m-0123456789ab for drift:2026-01-05: gate passed, not promoted (keel model approve / promote)"
