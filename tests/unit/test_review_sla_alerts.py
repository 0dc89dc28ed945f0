"""Review cases past their SLA: which application days are alerted, once each, and what the alert says (keel/review/sla_alerts.py)."""

import datetime as dt

from keel.review.queue_view import WaitingCases
from keel.review.sla_alerts import build_overdue_review_alert, newly_overdue

NOW = dt.datetime(2026, 1, 4, 7, 0, tzinfo=dt.timezone.utc)
DAY_1 = WaitingCases("2026-01-01", "2026-01-02T06:00:00+00:00", 41)
DAY_2 = WaitingCases("2026-01-02", "2026-01-03T06:00:00+00:00", 3)
DAY_3 = WaitingCases("2026-01-03", "2026-01-04T06:00:00+00:00", 42)
DAY_4 = WaitingCases("2026-01-04", "2026-01-05T06:00:00+00:00", 40)  # due tomorrow


def test_days_past_due_are_new_until_alerted_and_a_day_not_yet_due_is_not():
    new, remembered = newly_overdue([DAY_4, DAY_2, DAY_1], NOW, alerted=[])
    assert new == [DAY_1, DAY_2] and remembered == ["2026-01-01", "2026-01-02"]
    # The next look: the same days still wait; nothing new until the third day passes its due time.
    assert newly_overdue([DAY_1, DAY_2, DAY_4], NOW, remembered) == ([], ["2026-01-01", "2026-01-02"])
    later = NOW + dt.timedelta(days=1, minutes=1)
    assert newly_overdue([DAY_1, DAY_2, DAY_4], later, remembered) == ([DAY_4], ["2026-01-01", "2026-01-02", "2026-01-04"])


def test_a_day_whose_cases_were_all_decided_is_forgotten_so_cases_it_gets_again_are_told_anew():
    _, remembered = newly_overdue([DAY_1, DAY_2], NOW, alerted=[])
    new, remembered = newly_overdue([DAY_2], NOW, remembered)  # every case of the first day decided
    assert new == [] and remembered == ["2026-01-02"]
    again = WaitingCases("2026-01-01", DAY_1.due_by, 5)  # the day decided again, five cases back in review
    assert newly_overdue([again, DAY_2], NOW, remembered) == ([again], ["2026-01-01", "2026-01-02"])


def test_a_case_without_a_due_time_is_never_alerted():
    assert newly_overdue([WaitingCases("2026-01-01", None, 7)], NOW, alerted=[]) == ([], [])


def test_the_alert_names_each_new_day_its_cases_and_due_time_and_the_queues_overdue_total():
    waiting = [DAY_1, DAY_2, DAY_3, DAY_4]
    alert = build_overdue_review_alert([DAY_3], waiting, NOW)
    assert (alert["kind"], alert["incident"], alert["day"], alert["days"]) == ("review_overdue", "review_overdue:2026-01-03", "2026-01-03", ["2026-01-03"])
    assert (alert["cases"], alert["overdue_cases"]) == (42, 86)
    assert alert["details"] == ["2026-01-03: 42 case(s) due by 2026-01-04T06:00:00+00:00"]
    assert alert["text"].startswith(
        "keel: 42 review case(s) of 2026-01-03 waiting past their SLA (due by 2026-01-04T06:00:00+00:00; 86 overdue in all). "
        "Next: `keel review list`"
    )
    assert alert["raised_at"] == "2026-01-04T07:00:00+00:00"


def test_several_days_new_at_once_are_one_alert_over_their_span():
    alert = build_overdue_review_alert([DAY_1, DAY_2, DAY_3], [DAY_1, DAY_2, DAY_3, DAY_4], NOW)
    assert alert["incident"] == "review_overdue:2026-01-01..2026-01-03" and alert["day"] == "2026-01-03"
    assert (alert["cases"], alert["overdue_cases"]) == (86, 86)
    assert alert["text"].startswith(
        "keel: 86 review case(s) of 2026-01-01 to 2026-01-03 (3 days) waiting past their SLA (the first due by 2026-01-02T06:00:00+00:00). Next:"
    )
    assert len(alert["details"]) == 3
