"""The days a dbt build covers, handed to dbt's partition_window macro."""

from __future__ import annotations

import datetime as dt

START_VARIABLE = "KEEL_DBT_START_DATE"
END_VARIABLE = "KEEL_DBT_END_DATE"


def partition_window_env(start: dt.date, end_exclusive: dt.date) -> dict[str, str]:
    """Environment variables for a build of the days start .. end_exclusive (Dagster's window, end exclusive).

    The macro's window is inclusive on both ends, so the last day is the day before end_exclusive.
    """
    last = end_exclusive - dt.timedelta(days=1)
    if last < start:
        raise ValueError(f"empty partition window: {start} to {end_exclusive} (end exclusive)")
    return {START_VARIABLE: start.isoformat(), END_VARIABLE: last.isoformat()}
