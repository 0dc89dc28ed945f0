"""`keel run` on a day with no file says which file to deliver where, and names the demo's tools only for the demo's days."""

import datetime as dt

import pytest

from keel.demo_calendar import calendar_span
from keel.home import KeelHome
from keel.landing_zone import landing_file_name
from keel.runs import KeelError, run_day

# `keel land` writes the demo's data, so it can give only the days of the demo's calendar.
DEMO_DAY = calendar_span()[0]
OWN_DAY = calendar_span()[1] + dt.timedelta(days=400)


@pytest.fixture
def home(tmp_path):
    return KeelHome(tmp_path / "home").ensure()


def _refusal(home: KeelHome, day: dt.date) -> str:
    with pytest.raises(KeelError) as refused:
        run_day(home, day)
    return str(refused.value)


def test_an_empty_home_names_the_file_its_folder_and_the_demo(home):
    said = _refusal(home, DEMO_DAY)
    assert said.startswith(f"nothing has landed in {home.landing} yet: deliver applications_{DEMO_DAY}.csv, .parquet or .jsonl")
    assert f"into {home.landing_dir('applications')}" in said
    assert f"`keel land --date {DEMO_DAY}` or `keel demo`" in said


def test_a_day_outside_the_demos_calendar_is_not_told_to_use_keel_land(home):
    (home.landing_dir("applications") / landing_file_name("applications", DEMO_DAY)).write_text("application_id\n")
    said = _refusal(home, OWN_DAY)
    assert said == (
        f"no applications file has landed for {OWN_DAY}: deliver applications_{OWN_DAY}.csv, .parquet or .jsonl "
        f"into {home.landing_dir('applications')}"
    )


def test_a_demo_day_with_no_file_is_told_both_ways(home):
    (home.landing_dir("applications") / landing_file_name("applications", OWN_DAY)).write_text("application_id\n")
    said = _refusal(home, DEMO_DAY)
    assert said.endswith(f"into {home.landing_dir('applications')}; for the demo's data, `keel land --date {DEMO_DAY}`")


def test_a_file_for_the_day_the_landing_sensor_rejected_is_named_with_its_reason(home):
    (home.landing_dir("applications") / landing_file_name("applications", DEMO_DAY)).write_text("application_id\n")
    misnamed = f"applications_{OWN_DAY} (1).csv"
    (home.landing_rejected / misnamed).write_text("application_id\n")
    (home.landing_rejected / f"{misnamed}.reason.txt").write_text(f"{misnamed!r}: not a landing file name\n")
    said = _refusal(home, OWN_DAY)
    assert said.startswith(
        f"no applications file has landed for {OWN_DAY}: the landing sensor rejected a file for the day, now in "
        f"{home.landing_rejected}: {misnamed!r}: not a landing file name; deliver applications_{OWN_DAY}.csv"
    )
