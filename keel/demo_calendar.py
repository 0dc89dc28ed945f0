"""The demo replays the real seed applications as if they arrived day by day.

The rows are shuffled once with a fixed seed, then split into a labelled
history (past days whose repayment outcomes are already known) and live days.
Each application's repayment outcome lands `outcome_delay_days` after it was
made, so the history is placed early enough that all of its outcomes have
landed by the first live day. Everything here is a pure function of the seed
data and the calendar, so any day can be landed again byte for byte.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from keel.columns import APPLICATION_DATE, APPLICATION_ID, OUTCOME_DATE, REPAYMENT_STATUS, SOURCE_APPLICATION_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

FIRST_LIVE_DAY = dt.date(2026, 1, 1)


@dataclass(frozen=True)
class DemoCalendar:
    history_days: int = 14
    history_rows: int = 1454
    live_days: int = 30
    outcome_delay_days: int = 7
    first_live_day: dt.date = FIRST_LIVE_DAY
    shuffle_seed: int = 20260101

    @property
    def history_start(self) -> dt.date:
        return self.history_end - dt.timedelta(days=self.history_days - 1)

    @property
    def history_end(self) -> dt.date:
        # The last history day's outcomes land the day before the first live day.
        return self.first_live_day - dt.timedelta(days=self.outcome_delay_days + 1)

    @property
    def first_day(self) -> dt.date:
        return self.history_start

    def history_dates(self) -> list[dt.date]:
        return [self.history_start + dt.timedelta(days=i) for i in range(self.history_days)]

    def live_dates(self, days: int | None = None) -> list[dt.date]:
        count = self.live_days if days is None else days
        return [self.first_live_day + dt.timedelta(days=i) for i in range(count)]

    def outcome_dates_for_history(self) -> list[dt.date]:
        delay = dt.timedelta(days=self.outcome_delay_days)
        return [d + delay for d in self.history_dates()]


@lru_cache(maxsize=8)
def _dated_seed(calendar: DemoCalendar) -> pd.DataFrame:
    # numpy and the seed (pandas) load here: the definitions need only DemoCalendar, and load without them.
    import numpy as np

    from keel.seed import load_seed_applications

    seed = load_seed_applications()
    order = np.random.RandomState(calendar.shuffle_seed).permutation(len(seed))
    shuffled = seed.iloc[order].reset_index(drop=True)
    dates: list[dt.date] = []
    history_chunks = np.array_split(np.arange(calendar.history_rows), calendar.history_days)
    for day, chunk in zip(calendar.history_dates(), history_chunks):
        dates.extend([day] * len(chunk))
    live_count = len(shuffled) - calendar.history_rows
    live_chunks = np.array_split(np.arange(live_count), calendar.live_days)
    for day, chunk in zip(calendar.live_dates(), live_chunks):
        dates.extend([day] * len(chunk))
    shuffled[APPLICATION_DATE] = [d.isoformat() for d in dates]
    # Within a day, applications arrive in id order: a stable, readable file.
    return shuffled.sort_values([APPLICATION_DATE, APPLICATION_ID], kind="stable").reset_index(drop=True)


def applications_for(day: dt.date, calendar: DemoCalendar = DemoCalendar()) -> pd.DataFrame:
    """The applications made on `day`, in the source system's columns."""
    dated = _dated_seed(calendar)
    rows = dated[dated[APPLICATION_DATE] == day.isoformat()]
    return rows[list(SOURCE_APPLICATION_COLUMNS)].reset_index(drop=True)


def outcomes_landing_on(day: dt.date, calendar: DemoCalendar = DemoCalendar()) -> pd.DataFrame:
    """The repayment outcomes that become known on `day`."""
    import pandas as pd

    applied_on = day - dt.timedelta(days=calendar.outcome_delay_days)
    dated = _dated_seed(calendar)
    rows = dated[dated[APPLICATION_DATE] == applied_on.isoformat()]
    out = pd.DataFrame(
        {
            APPLICATION_ID: rows[APPLICATION_ID].to_numpy(),
            OUTCOME_DATE: day.isoformat(),
            REPAYMENT_STATUS: rows[REPAYMENT_STATUS].to_numpy(),
        }
    )
    return out.reset_index(drop=True)


def calendar_span(calendar: DemoCalendar = DemoCalendar()) -> tuple[dt.date, dt.date]:
    """First and last day on which the demo lands anything."""
    last_live = calendar.live_dates()[-1]
    return calendar.first_day, last_live + dt.timedelta(days=calendar.outcome_delay_days)
