"""`keel land`: the demo calendar's files for a day, or a faulty one on request (keel.runs.land_day)."""

import datetime as dt

import pytest

from keel.demo_calendar import DemoCalendar
from keel.home import KeelHome
from keel.runs import KeelError, land_day

CALENDAR = DemoCalendar()


def _only_outcomes_day() -> dt.date:
    return CALENDAR.live_dates()[-1] + dt.timedelta(days=1)


def _landed(home_path) -> list:
    return [*home_path.rglob("applications_*"), *home_path.rglob("outcomes_*")]


def test_a_fault_lands_a_faulty_applications_file_beside_the_days_outcomes(tmp_path):
    home = KeelHome(tmp_path / "home")
    written = land_day(home, CALENDAR.live_dates()[0], fault="empty_file")
    assert [path.name for path in written][0] == "applications_2026-01-01.csv"
    assert written[0].read_bytes() == b""


def test_a_fault_on_a_day_without_applications_is_refused_before_anything_lands(tmp_path):
    home = KeelHome(tmp_path / "home")
    day = _only_outcomes_day()
    assert [path.parent.name for path in land_day(home, day)] == ["outcomes"]  # the day itself has outcomes only
    with pytest.raises(KeelError, match=f"no applications on {day} to write fault empty_file into"):
        land_day(KeelHome(tmp_path / "other"), day, fault="empty_file")
    assert not _landed(tmp_path / "other")


def test_a_fault_in_another_format_is_refused_before_anything_lands(tmp_path):
    with pytest.raises(KeelError, match="--format parquet cannot carry it"):
        land_day(KeelHome(tmp_path / "home"), CALENDAR.live_dates()[0], fmt="parquet", fault="empty_file")
    assert not _landed(tmp_path / "home")
