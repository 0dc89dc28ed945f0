import datetime as dt

from keel.demo_calendar import DemoCalendar, applications_for, outcomes_landing_on
from keel.seed import load_seed_applications


def test_every_seed_application_lands_exactly_once():
    calendar = DemoCalendar()
    days = calendar.history_dates() + calendar.live_dates()
    landed = [applications_for(day, calendar) for day in days]
    ids = [i for frame in landed for i in frame["application_id"]]
    assert len(ids) == len(set(ids)) == len(load_seed_applications()) == 4454


def test_history_outcomes_have_landed_before_the_first_live_day():
    calendar = DemoCalendar(outcome_delay_days=7)
    history_ids = {i for day in calendar.history_dates() for i in applications_for(day, calendar)["application_id"]}
    known = {i for day in calendar.outcome_dates_for_history() for i in outcomes_landing_on(day, calendar)["application_id"]}
    assert history_ids == known
    assert max(calendar.outcome_dates_for_history()) < calendar.first_live_day


def test_outcomes_land_after_the_configured_delay():
    calendar = DemoCalendar(outcome_delay_days=5)
    day = calendar.first_live_day
    applied = applications_for(day, calendar)
    outcomes = outcomes_landing_on(day + dt.timedelta(days=5), calendar)
    assert list(outcomes["application_id"]) == list(applied["application_id"])
    assert set(outcomes["status"]) <= {"good", "bad"}
    assert outcomes_landing_on(day + dt.timedelta(days=4), calendar)["application_id"].isin(applied["application_id"]).sum() == 0


def test_landing_frames_are_deterministic_and_hide_the_label():
    a = applications_for(dt.date(2026, 1, 3))
    b = applications_for(dt.date(2026, 1, 3))
    assert a.equals(b)
    assert "status" not in a.columns
    assert (a["application_date"] == "2026-01-03").all()
