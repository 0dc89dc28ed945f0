"""`keel status`'s judging: which landed days wait and why, and what needs a person (keel/status.py)."""

import datetime as dt

from keel.status import (
    BLOCKED,
    CHANGED,
    HELD_BACK_RAISED_DAYS,
    FAILED,
    LANDING,
    NOT_STARTED,
    RELANDING,
    RERUN_FAILED,
    RUNNING,
    SENSOR_GRACE_SECONDS,
    UNDECIDED,
    DayRun,
    Facts,
    days_waiting,
    held_back_to_raise,
    needs_attention,
    resend_candidates,
)

NOW = dt.datetime(2026, 1, 10, 7, 0, tzinfo=dt.timezone.utc)
AN_HOUR_AGO = NOW.timestamp() - 3600


def _facts(**overrides) -> Facts:
    facts = Facts(now=NOW, landed={"2026-01-01": AN_HOUR_AGO, "2026-01-02": AN_HOUR_AGO}, decided={"2026-01-01", "2026-01-02"}, taken_in={"2026-01-01", "2026-01-02"})
    for name, value in overrides.items():
        setattr(facts, name, value)
    return facts


def _states(facts: Facts) -> dict[str, str]:
    return {day["date"]: day["state"] for day in days_waiting(facts)}


def test_a_home_whose_every_landed_day_is_decided_needs_nobody():
    facts = _facts()
    assert days_waiting(facts) == []
    assert needs_attention(facts) == []


def test_a_file_without_a_run_waits_for_the_sensor_then_is_named_as_not_started():
    just_now = NOW.timestamp() - 20
    facts = _facts(landed={"2026-01-01": AN_HOUR_AGO, "2026-01-03": just_now, "2026-01-04": NOW.timestamp() - SENSOR_GRACE_SECONDS - 1})
    assert _states(facts) == {"2026-01-03": LANDING, "2026-01-04": NOT_STARTED}
    [finding] = needs_attention(facts)
    assert finding.kind == "day_not_started"
    assert finding.message == "2026-01-04: its file landed 3 min ago and no run has taken it in"
    assert "`keel run --date 2026-01-04`" in finding.next_step


def test_a_days_latest_run_says_whether_it_runs_failed_was_blocked_or_decided_nothing():
    landed = {day: AN_HOUR_AGO for day in ("2026-01-01", "2026-01-03", "2026-01-04", "2026-01-05", "2026-01-06")}
    runs = {
        "2026-01-03": DayRun("r3", "STARTED"),
        "2026-01-04": DayRun("r4", "FAILURE", failure="decisions: PolicyNotInForce: not yet"),
        "2026-01-05": DayRun("r5", "FAILURE", failure="day blocked: the file is empty", block_reason="applications_2026-01-05.csv is empty"),
        "2026-01-06": DayRun("r6", "SUCCESS"),
    }
    facts = _facts(landed=landed, day_runs=runs)
    assert _states(facts) == {"2026-01-03": RUNNING, "2026-01-04": FAILED, "2026-01-05": BLOCKED, "2026-01-06": UNDECIDED}
    found = {finding.kind: finding for finding in needs_attention(facts)}
    assert set(found) == {"day_failed", "day_blocked", "day_undecided"}  # a running day needs nobody yet
    assert found["day_failed"].message == "2026-01-04: its run r4 failed: decisions: PolicyNotInForce: not yet"
    assert found["day_blocked"].message == "2026-01-05: blocked: applications_2026-01-05.csv is empty"
    assert "resend" in found["day_blocked"].next_step
    assert found["day_undecided"].message == "2026-01-06: its latest run r6 succeeded and nothing was decided"


def test_a_day_taken_in_after_the_first_decided_day_and_never_decided_is_undecided_even_without_its_run():
    facts = _facts(landed={"2026-01-01": AN_HOUR_AGO, "2026-01-02": AN_HOUR_AGO}, decided={"2026-01-01"}, taken_in={"2026-01-01", "2026-01-02"})
    assert _states(facts) == {"2026-01-02": UNDECIDED}
    [finding] = needs_attention(facts)
    assert finding.message == "2026-01-02: its applications were taken in and nothing was decided"


def test_history_taken_in_before_the_first_decided_day_is_not_waiting_but_a_blocked_day_before_it_is():
    landed = {"2025-12-30": AN_HOUR_AGO, "2025-12-31": AN_HOUR_AGO, "2026-01-01": AN_HOUR_AGO}
    facts = _facts(
        landed=landed,
        decided={"2026-01-01"},
        taken_in={"2025-12-30", "2026-01-01"},  # 2025-12-31's file was refused as a whole: none of its rows is in
        day_runs={"2025-12-31": DayRun("r", "FAILURE", block_reason="header only")},
    )
    assert _states(facts) == {"2025-12-31": BLOCKED}
    facts = _facts(landed=landed, decided={"2026-01-01"}, taken_in={"2025-12-30", "2026-01-01"})
    assert _states(facts) == {"2025-12-31": NOT_STARTED}


def test_only_checks_failing_at_error_need_a_person_and_an_outage_comes_first():
    checks = [
        {"check": "segment_outcomes:approval_rates_meet_four_fifths_rule", "severity": "WARN", "description": "below 0.8"},
        {"check": "feature_drift:features_within_drift_thresholds", "severity": "ERROR", "description": "2026-01-02: income (alert)\nmore"},
    ]
    source = {"late": True, "message": "source outage: applications for 2026-01-03 ..."}
    found = needs_attention(_facts(last_day_failed_checks=checks, last_decided_day="2026-01-02", source=source))
    assert [finding.kind for finding in found] == ["outage", "failed_check"]
    assert found[1].message == "2026-01-02: check feature_drift:features_within_drift_thresholds failed: 2026-01-02: income (alert)"
    assert found[1].next_step == "read the check in the UI (the asset's Checks tab)"
    with_report = needs_attention(_facts(last_day_failed_checks=checks, last_decided_day="2026-01-02", last_day_report="/h/reports/monitoring/monitoring_2026-01-02.html"))
    assert with_report[0].next_step.endswith("and the day's monitoring report, /h/reports/monitoring/monitoring_2026-01-02.html")
    assert needs_attention(_facts(source={"late": False, "message": "applications_2026-01-03.csv arrived"})) == []


def test_overdue_reviews_are_counted_against_those_waiting():
    [finding] = needs_attention(_facts(review_waiting=12, review_overdue=3))
    assert finding.kind == "overdue_review"
    assert finding.message == "3 of the 12 cases waiting for a reviewer are past their SLA"
    assert needs_attention(_facts(review_waiting=12, review_overdue=0)) == []


def test_a_failed_job_is_named_once_a_waiting_days_failure_is_said_with_its_day():
    runs = {
        "train_model": {"run_id": "t1", "status": "FAILURE", "partition": None, "failure": "training_set: ValueError: no labels"},
        "daily_decisioning": {"run_id": "d1", "status": "FAILURE", "partition": "2026-01-03", "failure": "scores: boom"},
        "review_decisions": {"run_id": "v1", "status": "SUCCESS", "partition": None, "failure": None},
    }
    facts = _facts(landed={"2026-01-02": AN_HOUR_AGO, "2026-01-03": AN_HOUR_AGO}, job_runs=runs, day_runs={"2026-01-03": DayRun("d1", "FAILURE", failure="scores: boom")})
    assert [(finding.kind, finding.message) for finding in needs_attention(facts)] == [
        ("day_failed", "2026-01-03: its run d1 failed: scores: boom"),
        ("job_failed", "the last train_model run t1 failed: training_set: ValueError: no labels"),
    ]
    # A decided day's rerun that failed is named too: its earlier decisions stand, the rerun did not happen.
    facts = _facts(job_runs={"daily_decisioning": {**runs["daily_decisioning"], "partition": "2026-01-02"}})
    assert [finding.message for finding in needs_attention(facts)] == ["the last daily_decisioning run of 2026-01-02 d1 failed: scores: boom"]


def test_a_decided_day_waits_again_when_other_content_lands_for_it_or_its_rerun_failed():
    started = AN_HOUR_AGO
    runs = {
        "2026-01-01": DayRun("r1", "SUCCESS", started_at=started),
        "2026-01-02": DayRun("r2", "SUCCESS", started_at=started),
        "2026-01-03": DayRun("r3", "FAILURE", block_reason="applications_2026-01-03.csv is header only", started_at=started),
    }
    landed = {"2026-01-01": started + 600, "2026-01-02": NOW.timestamp() - 30, "2026-01-03": started - 60}
    decided = {"2026-01-01", "2026-01-02", "2026-01-03"}
    facts = _facts(landed=landed, decided=decided, taken_in=decided, day_runs=runs)
    # Modified after the run started: only the content tells a resend from a touch.
    assert resend_candidates(facts) == ["2026-01-01", "2026-01-02"]
    assert _states(facts) == {"2026-01-03": RERUN_FAILED}  # the two touched files hold what was taken in
    facts.resent = {"2026-01-01", "2026-01-02"}
    assert _states(facts) == {"2026-01-01": CHANGED, "2026-01-02": RELANDING, "2026-01-03": RERUN_FAILED}
    found = needs_attention(facts)
    assert [finding.kind for finding in found] == ["day_changed", "day_rerun_failed"]
    assert found[0].message.startswith("2026-01-01: a file with other content landed 50 min ago, after its run r1 started")
    assert found[1].message == "2026-01-03: its latest run r3 failed: applications_2026-01-03.csv is header only; the decisions of its earlier run stand"


def test_a_blocked_days_file_resent_after_its_run_waits_for_the_sensor_like_a_new_one():
    blocked = DayRun("r3", "FAILURE", block_reason="header only", started_at=AN_HOUR_AGO)
    facts = _facts(landed={"2026-01-02": AN_HOUR_AGO, "2026-01-03": NOW.timestamp() - 30}, day_runs={"2026-01-03": blocked})
    assert _states(facts) == {"2026-01-03": LANDING}
    facts.landed["2026-01-03"] = NOW.timestamp() - 600
    assert _states(facts) == {"2026-01-03": NOT_STARTED}
    facts.landed["2026-01-03"] = AN_HOUR_AGO - 60  # the file the run blocked
    assert _states(facts) == {"2026-01-03": BLOCKED}


def _held(source: str, date: str, rows: int, by_check: dict) -> dict:
    return {"source": source, "date": date, "source_file": f"{source}_{date}.csv", "source_sha256": "ab", "rows": rows, "rows_by_check": by_check}


def test_rows_held_back_on_recent_days_need_a_person_older_ones_and_refused_files_are_said_otherwise():
    held = [
        _held("applications", "2025-12-20", 4, {"type": 4}),  # more than HELD_BACK_RAISED_DAYS before the last decided day
        _held("applications", "2026-01-01", 2, {"range": 1, "type": 1}),
        _held("applications", "2026-01-03", 100, {"contract_schema": 100}),  # the day's file was refused as a whole
        _held("outcomes", "2026-01-02", 1, {"allowed_values": 1}),
    ]
    landed = {"2026-01-01": AN_HOUR_AGO, "2026-01-02": AN_HOUR_AGO, "2026-01-03": AN_HOUR_AGO}
    blocked = {"2026-01-03": DayRun("r3", "FAILURE", block_reason="required column 'income' is missing")}
    facts = _facts(landed=landed, held_back=held, last_decided_day="2026-01-02", day_runs=blocked)
    assert [entry["date"] for entry in held_back_to_raise(facts, days_waiting(facts))] == ["2026-01-01", "2026-01-02"]
    found = needs_attention(facts)
    assert [finding.kind for finding in found] == ["day_blocked", "rows_held_back", "rows_held_back"]
    assert found[1].message == "2026-01-01: 2 applications held back, without a decision (applications_2026-01-01.csv: range 1, type 1)"
    assert found[1].next_step.startswith("`keel quarantine --date 2026-01-01 --export held_back.csv`")
    assert found[2].message == "2026-01-02: 1 outcome held back, labels monitoring lacks (outcomes_2026-01-02.csv: allowed_values 1)"
    assert found[2].next_step.startswith("`keel quarantine --source outcomes --date 2026-01-02 --export held_back.csv`")
    # The window follows the last decided day; with none decided yet, the newest held-back day.
    assert [entry["date"] for entry in held_back_to_raise(_facts(held_back=held[:1], decided=set(), last_decided_day=None), [])] == ["2025-12-20"]
    assert held_back_to_raise(_facts(held_back=[]), []) == []
    edge = dt.date(2026, 1, 2) - dt.timedelta(days=HELD_BACK_RAISED_DAYS)
    near, far = _held("applications", edge.isoformat(), 1, {"type": 1}), _held("applications", (edge - dt.timedelta(days=1)).isoformat(), 1, {"type": 1})
    assert held_back_to_raise(_facts(held_back=[far, near], last_decided_day="2026-01-02"), []) == [near]


def test_held_back_rows_of_a_day_taken_in_under_another_contract_point_at_a_dry_run_and_a_run_again():
    older = {**_held("applications", "2026-01-01", 1, {"allowed_values": 1}), "taken_in_under": "1.1.0"}
    same = {**_held("applications", "2026-01-02", 1, {"allowed_values": 1}), "taken_in_under": "1.2.0"}
    landed = {"2026-01-01": AN_HOUR_AGO, "2026-01-02": AN_HOUR_AGO}
    facts = _facts(landed=landed, held_back=[older, same], last_decided_day="2026-01-02", contract_in_force="1.2.0")
    first, second = [finding for finding in needs_attention(facts) if finding.kind == "rows_held_back"]
    assert first.next_step.startswith(
        "the day was taken in under contract 1.1.0 and 1.2.0 is in force: `keel contract dry-run` shows whether `keel run --date 2026-01-01` "
        "takes them in now; if not, `keel quarantine --date 2026-01-01 --export held_back.csv`"
    )
    assert second.next_step.startswith("`keel quarantine --date 2026-01-02 --export held_back.csv`")
