"""One day of N applications, scaled from the real data set.

Rows are drawn with replacement from the vendored seed (data/seed), so every
column keeps the real data's distribution, missing values and categories;
each row gets a fresh application id and the benchmark day's date. The draw is
seeded: the same N and seed give the same file.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from keel.columns import APPLICATION_DATE, APPLICATION_ID, SOURCE_APPLICATION_COLUMNS
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
