"""Has the source delivered? Telling an outage from a late, empty or broken file.

A source that promises a file every day (its contract's `delivery`) is late
once the cutoff for a day has passed with no file in the landing zone: that is
an outage, and the day must not be scored. A file that did arrive but holds
nothing (empty, header only) or was cut off is a different problem and is
reported by the contract checks as what it is, not as an outage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from keel.contracts.contract import Delivery
from keel.landing_zone import expected_file_names, find_landing_file, rejected_for_day

ARRIVED = "arrived"
WAITING = "waiting"  # not due yet
OUTAGE = "outage"  # due and not there
NOT_EXPECTED = "not_expected"  # the source does not promise a daily file


@dataclass(frozen=True)
class Arrival:
    source: str
    day: dt.date
    status: str
    due_at: dt.datetime
    file: Path | None
    message: str

    @property
    def late(self) -> bool:
        return self.status == OUTAGE


def due_at(day: dt.date, delivery: Delivery) -> dt.datetime:
    hour, minute = (int(part) for part in delivery.cutoff_utc.split(":"))
    return dt.datetime.combine(day + dt.timedelta(days=delivery.due_days_after), dt.time(hour, minute), tzinfo=dt.timezone.utc)


def latest_due_day(now: dt.datetime, delivery: Delivery) -> dt.date:
    """The most recent day whose file should have arrived by `now`."""
    day = now.astimezone(dt.timezone.utc).date() - dt.timedelta(days=delivery.due_days_after)
    return day if due_at(day, delivery) <= now else day - dt.timedelta(days=1)


def assess_arrival(folder: Path, source: str, day: dt.date, now: dt.datetime, delivery: Delivery, rejected: Path | None = None) -> Arrival:
    """Whether `source`'s file for `day` is in `folder` by its cutoff; an outage names any file for the day in `rejected`."""
    deadline = due_at(day, delivery)
    path = find_landing_file(folder, source, day)
    if path is not None:
        return Arrival(source, day, ARRIVED, deadline, path, f"{path.name} arrived")
    expected = f"{expected_file_names(source, day)} in {folder}"
    if not delivery.daily:
        return Arrival(source, day, NOT_EXPECTED, deadline, None, f"no {source} file for {day}; this source only sends a file when it has rows")
    if now < deadline:
        return Arrival(source, day, WAITING, deadline, None, f"{source} for {day} not in yet; due by {deadline:%Y-%m-%d %H:%M} UTC")
    hours = (now - deadline).total_seconds() / 3600
    held_back = rejected_for_day(rejected, source, day) if rejected is not None else None
    late = f"{hours / 24:.0f} days late" if hours >= 48 else f"{hours:.0f} h late"
    return Arrival(
        source,
        day,
        OUTAGE,
        deadline,
        None,
        f"source outage: {source} for {day} was due by {deadline:%Y-%m-%d %H:%M} UTC and has not arrived "
        f"({late}); expected {expected}. The day is not scored until it lands." + (f" Note: {held_back}." if held_back else ""),
    )


def day_to_judge_in_range(folder: Path, source: str, days: list[dt.date]) -> dt.date:
    """The day a run over `days` (a backfill, the demo's history) is judged by: the first without a file, else the last."""
    return next((day for day in days if find_landing_file(folder, source, day) is None), days[-1])


def next_expected_day(loaded_days: list[str], first_day: dt.date) -> dt.date:
    """The day after the latest one loaded (or the first day of the calendar): the one to watch."""
    if not loaded_days:
        return first_day
    return dt.date.fromisoformat(max(loaded_days)) + dt.timedelta(days=1)
