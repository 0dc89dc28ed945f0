"""One day of N applications, scaled from the real data set.

Rows are drawn with replacement from the vendored seed (data/seed), so every
column keeps the real data's distribution, missing values and categories;
each row gets a fresh application id and the benchmark day's date. The draw is
seeded: the same N and seed give the same file.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from keel.columns import APPLICATION_DATE, APPLICATION_ID, SOURCE_APPLICATION_COLUMNS
from keel.home import KeelHome
from keel.landing_zone import frame_to_bytes, landing_file_name, write_atomically
from keel.seed import load_seed_applications

# The contract's id pattern is A + 6 to 9 digits. Scaled ids are A9 + 8 digits:
# never equal to the real data's (A + 6 digits) that the history holds.
MAX_ROWS = 99_999_999


def scaled_applications(rows: int, day: dt.date, seed: int = 0) -> pd.DataFrame:
    """`rows` applications dated `day`, in the source system's columns."""
    if not 1 <= rows <= MAX_ROWS:
        raise ValueError(f"rows must be between 1 and {MAX_ROWS:,}; found {rows:,}")
    source = load_seed_applications()
    picks = np.random.default_rng(seed).integers(0, len(source), size=rows)
    frame = source.iloc[picks].reset_index(drop=True)
    frame[APPLICATION_ID] = "A9" + pd.Series(np.arange(1, rows + 1)).astype("str").str.zfill(8)
    frame[APPLICATION_DATE] = day.isoformat()
    return frame[list(SOURCE_APPLICATION_COLUMNS)]


def land_scaled_day(home: KeelHome, rows: int, day: dt.date) -> Path:
    """Write the scaled day as the day's applications CSV in `home`'s landing zone."""
    path = home.landing_dir("applications") / landing_file_name("applications", day, "csv")
    return write_atomically(path, frame_to_bytes(scaled_applications(rows, day), "csv"))


if __name__ == "__main__":
    # python -m keel.bench.scaled_day KEEL_HOME ROWS DAY: prints the landed file's path.
    root, rows, day = sys.argv[1:4]
    print(land_scaled_day(KeelHome(Path(root)), int(rows), dt.date.fromisoformat(day)))
