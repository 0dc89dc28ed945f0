"""The demo calendar's files, written into the landing zone as a source would deliver them.

`keel land` and `keel demo` write a day's applications (and the outcomes
due that day) here; nothing in this module starts a run, so landing a file
does not import Dagster (keel.runs, which runs the days, does).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from keel.demo_calendar import DemoCalendar, applications_for, outcomes_landing_on
from keel.errors import KeelError
from keel.home import KeelHome
from keel.landing_zone import frame_to_bytes, landing_file_name, write_atomically


def land_day(home: KeelHome, day: dt.date, calendar: DemoCalendar = DemoCalendar(), fmt: str = "csv", fault: str | None = None) -> list[Path]:
    """Write the day's applications and outcomes files of the demo calendar into the landing zone."""
    home.ensure()
    written: list[Path] = []
    applications = applications_for(day, calendar)
    if fault and fmt != "csv":
        raise KeelError(f"--fault writes a faulty CSV file; --format {fmt} cannot carry it (drop --format or use csv)")
    if fault and not len(applications):
        first, last = calendar.live_dates()[0], calendar.live_dates()[-1]
        raise KeelError(f"the demo calendar has no applications on {day} to write fault {fault} into: its live days run from {first} to {last}")
    if len(applications):
        folder = home.landing_dir("applications")
        if fault:
            from keel.faults import write_faulty_file

            written.append(write_faulty_file(applications, folder, day.isoformat(), fault))
        else:
            written.append(write_atomically(folder / landing_file_name("applications", day, fmt), frame_to_bytes(applications, fmt)))
    outcomes = outcomes_landing_on(day, calendar)
    if len(outcomes):
        folder = home.landing_dir("outcomes")
        written.append(write_atomically(folder / landing_file_name("outcomes", day, fmt), frame_to_bytes(outcomes, fmt)))
    if not written:
        first, last = calendar.first_day, calendar.live_dates()[-1] + dt.timedelta(days=calendar.outcome_delay_days)
        raise KeelError(f"the demo calendar has nothing to land on {day}: it runs from {first} to {last}")
    return written


def land_drift_scenario_day(home: KeelHome, day: dt.date, calendar: DemoCalendar, drift_from: dt.date, strength: float = 1.0) -> list[Path]:
    """Land the day's demo files, shifted by keel.scenarios for applications made from `drift_from` on.

    Applications of drifted days have lower incomes and some "gig" jobs; the
    outcomes of those applications, landing a week later, turn a share of
    good repayments bad. Earlier days land unchanged. Each day's shift is
    seeded by its date, so a replay gives the same files.
    """
    from keel.scenarios import apply_drift, drift_outcomes

    home.ensure()
    seed = int(day.strftime("%Y%m%d"))
    written: list[Path] = []
    applications = applications_for(day, calendar)
    if len(applications):
        if day >= drift_from:
            applications = apply_drift(applications, strength, seed=seed)
        path = home.landing_dir("applications") / landing_file_name("applications", day, "csv")
        written.append(write_atomically(path, frame_to_bytes(applications, "csv")))
    outcomes = outcomes_landing_on(day, calendar)
    if len(outcomes):
        if day - dt.timedelta(days=calendar.outcome_delay_days) >= drift_from:
            outcomes = drift_outcomes(outcomes, strength, seed=seed)
        path = home.landing_dir("outcomes") / landing_file_name("outcomes", day, "csv")
        written.append(write_atomically(path, frame_to_bytes(outcomes, "csv")))
    if not written:
        raise KeelError(f"the demo calendar has nothing to land on {day}")
    return written
