"""Small pandas helpers that keel's steps share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd


def merge_one_to_one(left: pd.DataFrame, right: pd.DataFrame, on: str | Sequence[str], how: str = "inner") -> pd.DataFrame:
    """`left.merge(right, on=on, how=how, validate="one_to_one")`, the keys' uniqueness checked by hashing them.

    pandas checks one-to-one by building an index of each side's keys, which
    factorizes them into a categorical: for a million text ids that took
    ~1.5 s more than the merge itself; hashing them (duplicated) ~0.2 s.
    The same MergeError for a key that repeats, missing keys counting as equal.
    When the two sides hold the same keys in the same order (a frame and what
    was computed from it row by row), the rows are put side by side instead
    of joined: the same frame, without the join or the second check.
    """
    keys = [on] if isinstance(on, str) else list(on)
    aligned = how in ("inner", "left") and _same_keys_in_order(left, right, keys)
    for side, frame in (("left", left), ("right", right))[: 1 if aligned else 2]:
        repeated = frame[keys[0]].duplicated() if len(keys) == 1 else frame.duplicated(subset=keys)
        if repeated.any():
            raise pd.errors.MergeError(f"Merge keys are not unique in {side} dataset; not a one-to-one merge")
    if aligned:
        return pd.concat([left.reset_index(drop=True), right.drop(columns=keys).reset_index(drop=True)], axis=1)
    return left.merge(right, on=on, how=how)


def _same_keys_in_order(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> bool:
    # Only where a join would give exactly these rows and columns: keys of the
    # same dtypes, none missing (a join matches missing keys differently), no
    # other column in both (a join would suffix it).
    if len(left) != len(right) or set(left.columns) & set(right.columns) != set(keys):
        return False
    for key in keys:
        mine, theirs = left[key], right[key]
        if mine.dtype != theirs.dtype or mine.isna().any() or not mine.reset_index(drop=True).equals(theirs.reset_index(drop=True)):
            return False
    return True


def _wall_clock(values: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(values)
    return stamps.dt.tz_localize(None) if getattr(stamps.dt, "tz", None) is not None else stamps


def calendar_days(values: pd.Series) -> pd.Series:
    """`pd.to_datetime(values).dt.date`: each value's day as a Python date (NaT where missing), each distinct day made once.

    .dt.date makes a Python object per row; a monitoring window holds a
    million rows of a few dozen days.
    """
    codes, days = pd.factorize(_wall_clock(values))
    made = np.array([day.date() for day in days] + [pd.NaT], dtype=object)
    return pd.Series(made[codes], index=values.index, name=values.name, dtype=object)


def on_days(values: pd.Series, first: dt.date | None, last: dt.date) -> pd.Series:
    """Whether each value falls on a day from `first` (None: any day) to `last`, both inclusive; missing values do not.

    What `(d >= first) & (d <= last)` gives for d = calendar_days(values), compared as datetimes.
    """
    stamps = _wall_clock(values)
    on_or_before = stamps < pd.Timestamp(last + dt.timedelta(days=1))
    return on_or_before if first is None else (stamps >= pd.Timestamp(first)) & on_or_before
