"""Review cases waiting past their SLA become one alert per application day.

A case a policy sent to a person is due `sla_hours` after it was queued. While
it waits past that, the applicant waits too, and `keel status` lists it for
whoever asks; the review SLA sensor tells the team without anyone asking.
This module decides, without Dagster, what to tell:

  * a day is alerted when the first of its cases still waiting passes its
    due time; the cases of one day are queued together, so one alert per day,
    however many ticks find them still waiting;
  * the days alerted are remembered while any of their cases still wait past
    due. Once a day's cases are all decided it is forgotten, so cases it gets
    again (the day decided again, with new cases for review) are told anew;
  * an alert names each day newly overdue with its cases and due time, and
    how many cases are overdue in all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from keel.alerts import REVIEW_OVERDUE, WORK_THE_QUEUE, shortened
from keel.review.queue_view import WaitingCases, due_time, overdue


def overdue_days(waiting: Iterable[WaitingCases], now: dt.datetime) -> list[WaitingCases]:
    """The days with cases still waiting past their due time at `now`, oldest first."""
    return sorted((w for w in waiting if overdue(w.due_by, False, now)), key=lambda w: (w.day, w.due_by or ""))


def newly_overdue(waiting: Iterable[WaitingCases], now: dt.datetime, alerted: Iterable[str]) -> tuple[list[WaitingCases], list[str]]:
    """(the overdue days not alerted yet, the days to remember as alerted after this look).

    The days remembered are those alerted now or before that still have cases
    waiting past due: a day whose cases were all decided drops out.
    """
    late = overdue_days(waiting, now)
    known = set(alerted)
    new = [w for w in late if w.day not in known]
    return new, sorted({w.day for w in late})


def build_overdue_review_alert(new: list[WaitingCases], waiting: Iterable[WaitingCases], now: dt.datetime | None = None) -> dict:
    """The alert of review cases newly past their SLA (`new`, from newly_overdue), with the whole queue's overdue count."""
    now = now or dt.datetime.now(dt.timezone.utc)
    late = overdue_days(waiting, now)
    days = sorted({w.day for w in new})
    cases = sum(w.cases for w in new)
    overdue_in_all = sum(w.cases for w in late)
    span = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]} ({len(days)} days)"
    oldest = min((w.due_by for w in new if w.due_by), key=due_time)
    due = f"due by {oldest}" if len(new) == 1 else f"the first due by {oldest}"
    what = f"{cases} review case(s) of {span} waiting past their SLA ({due}" + (
        f"; {overdue_in_all} overdue in all)" if overdue_in_all > cases else ")"
    )
    return {
        "incident": f"{REVIEW_OVERDUE}:{days[0]}" + (f"..{days[-1]}" if len(days) > 1 else ""),
        "kind": REVIEW_OVERDUE,
        "day": days[-1],
        "days": days,
        "severity": "alert",
        "cases": cases,
        "overdue_cases": overdue_in_all,
        "details": [f"{w.day}: {w.cases} case(s) due by {w.due_by}" for w in new],
        "run_url": None,
        "next_step": WORK_THE_QUEUE,
        "raised_at": now.isoformat(timespec="seconds"),
        "text": f"keel: {shortened(what)}. Next: {WORK_THE_QUEUE}.",
    }
