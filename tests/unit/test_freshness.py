"""Outage detection: a missing file past its cutoff is an outage; before it, the source is just not due."""

import datetime as dt

import pytest

from keel.contracts.contract import ContractError, Delivery, load_contract
from keel.freshness import ARRIVED, NOT_EXPECTED, OUTAGE, WAITING, assess_arrival, due_at, latest_due_day, next_expected_day
from keel.home import REPO_ROOT

DAILY = Delivery(daily=True, due_days_after=1, cutoff_utc="05:00")
DAY = dt.date(2026, 1, 5)
UTC = dt.timezone.utc


def test_due_at_is_the_cutoff_on_the_day_after():
    assert due_at(DAY, DAILY) == dt.datetime(2026, 1, 6, 5, 0, tzinfo=UTC)


def test_a_missing_file_before_the_cutoff_is_waiting(tmp_path):
    arrival = assess_arrival(tmp_path, "applications", DAY, dt.datetime(2026, 1, 6, 4, 59, tzinfo=UTC), DAILY)
    assert arrival.status == WAITING and not arrival.late
    assert "due by 2026-01-06 05:00 UTC" in arrival.message


def test_a_missing_file_after_the_cutoff_is_an_outage_naming_the_file(tmp_path):
    arrival = assess_arrival(tmp_path, "applications", DAY, dt.datetime(2026, 1, 6, 8, 0, tzinfo=UTC), DAILY)
    assert arrival.status == OUTAGE and arrival.late
    assert "applications_2026-01-05.csv" in arrival.message and "3 h late" in arrival.message
    assert "not scored" in arrival.message



def test_an_outage_names_a_file_for_the_day_that_was_rejected_and_why(tmp_path):
    landing, rejected = tmp_path / "applications", tmp_path / "rejected"
    landing.mkdir()
    rejected.mkdir()
    (rejected / "Applications_2026-01-05.csv").write_text("application_id\n")
    (rejected / "Applications_2026-01-05.csv.reason.txt").write_text("'Applications_2026-01-05.csv': not a landing file name\n")
    (rejected / "applications_2026-01-06.csv").write_text("another day\n")
    arrival = assess_arrival(landing, "applications", DAY, dt.datetime(2026, 1, 6, 8, 0, tzinfo=UTC), DAILY, rejected=rejected)
    assert arrival.status == OUTAGE
    assert arrival.message.endswith(
        f"Note: the landing sensor rejected a file for the day, now in {rejected}: 'Applications_2026-01-05.csv': not a landing file name."
    )
    quiet = assess_arrival(landing, "applications", dt.date(2026, 1, 4), dt.datetime(2026, 1, 6, 8, 0, tzinfo=UTC), DAILY, rejected=rejected)
    assert quiet.status == OUTAGE and "Note" not in quiet.message, "nothing was rejected for that day"

def test_an_empty_file_is_not_an_outage(tmp_path):
    (tmp_path / "applications_2026-01-05.csv").write_bytes(b"")
    arrival = assess_arrival(tmp_path, "applications", DAY, dt.datetime(2026, 2, 1, tzinfo=UTC), DAILY)
    assert arrival.status == ARRIVED and arrival.file.name == "applications_2026-01-05.csv"


def test_a_source_without_a_daily_promise_has_no_outage(tmp_path):
    arrival = assess_arrival(tmp_path, "outcomes", DAY, dt.datetime(2026, 2, 1, tzinfo=UTC), Delivery(daily=False))
    assert arrival.status == NOT_EXPECTED and not arrival.late


def test_latest_due_day_moves_at_the_cutoff():
    assert latest_due_day(dt.datetime(2026, 1, 6, 4, 0, tzinfo=UTC), DAILY) == dt.date(2026, 1, 4)
    assert latest_due_day(dt.datetime(2026, 1, 6, 5, 0, tzinfo=UTC), DAILY) == dt.date(2026, 1, 5)


def test_next_expected_day_follows_the_last_loaded_one():
    assert next_expected_day([], dt.date(2025, 12, 11)) == dt.date(2025, 12, 11)
    assert next_expected_day(["2026-01-02", "2026-01-03", "2025-12-11"], dt.date(2025, 12, 11)) == dt.date(2026, 1, 4)


def test_the_applications_contract_promises_a_daily_file():
    delivery = load_contract(REPO_ROOT / "policies/contracts/applications.yaml").delivery
    assert delivery.daily and delivery.cutoff_utc == "05:00"
    assert not load_contract(REPO_ROOT / "policies/contracts/outcomes.yaml").delivery.daily


def test_a_bad_cutoff_is_refused_naming_the_field(tmp_path):
    text = (REPO_ROOT / "policies/contracts/applications.yaml").read_text().replace('cutoff_utc: "05:00"', 'cutoff_utc: "25:00"')
    path = tmp_path / "applications.yaml"
    path.write_text(text)
    with pytest.raises(ContractError, match=r"delivery.cutoff_utc: expected a time of day HH:MM \(UTC\), found '25:00'"):
        load_contract(path)


def test_a_run_over_a_range_of_days_is_judged_by_its_first_day_without_a_file_else_its_last(tmp_path):
    from keel.freshness import day_to_judge_in_range

    days = [dt.date(2025, 12, d) for d in (20, 21, 22)]
    for day in days:
        (tmp_path / f"applications_{day}.csv").write_text("application_id\nA000001\n")
    assert day_to_judge_in_range(tmp_path, "applications", days) == dt.date(2025, 12, 22), "every file is in: judged by the last"
    (tmp_path / "applications_2025-12-21.csv").unlink()
    assert day_to_judge_in_range(tmp_path, "applications", days) == dt.date(2025, 12, 21)
