import datetime as dt

import numpy as np
import pandas as pd
import pytest

from keel.frames import calendar_days, merge_one_to_one, on_days

IDS = pd.Series(["A1", "A2", "A3", "A4"], dtype="str")


def _cases():
    left = pd.DataFrame({"application_id": IDS, "day": ["d1", "d1", "d2", "d2"], "score": [0.1, 0.2, 0.3, 0.4]})
    right = pd.DataFrame({"application_id": IDS[[3, 1, 0]].reset_index(drop=True), "day": ["d2", "d1", "d1"], "status": ["bad", "good", "good"]})
    repeated = pd.concat([right, right.iloc[[0]]], ignore_index=True)
    missing_twice = pd.DataFrame({"application_id": pd.Series([None, None, "A1"], dtype="object"), "status": ["a", "b", "c"]})
    for how in ("inner", "left"):
        yield left, right, "application_id", how
        yield left, right.drop(columns="day"), ["application_id"], how
        yield left, right, ["application_id", "day"], how
        yield left, repeated, "application_id", how
        yield repeated, left, "application_id", how
        yield left, repeated, ["application_id", "day"], how
        yield left.drop(columns="day"), missing_twice, "application_id", how
        yield left.iloc[0:0], right, "application_id", how
        # The same keys in the same order: put side by side, whatever the index.
        beside = pd.DataFrame({"application_id": IDS, "route": ["a", "b", "a", "c"], "flag": [True, False, True, False], "n": [1, 2, 3, 4]})
        yield left.set_axis([10, 11, 12, 13]), beside, "application_id", how
        yield left, beside.assign(day=left["day"]), ["application_id", "day"], how
        yield left, beside.assign(score=1.0), "application_id", how  # a shared column: joined, suffixed
        yield left, beside.astype({"application_id": "object"}), "application_id", how
        yield left.assign(application_id=IDS[[0, 0, 2, 3]].to_numpy()), beside.assign(application_id=IDS[[0, 0, 2, 3]].to_numpy()), "application_id", how
        with_missing = IDS.astype("object").where(IDS != "A2", None)
        yield left.assign(application_id=with_missing), beside.assign(application_id=with_missing), "application_id", how


@pytest.mark.parametrize("left, right, on, how", list(_cases()))
def test_the_same_as_pandas_one_to_one_merge(left, right, on, how):
    try:
        expected = left.merge(right, on=on, how=how, validate="one_to_one")
    except pd.errors.MergeError as error:
        side = "left" if "left" in str(error) else "right"
        with pytest.raises(pd.errors.MergeError, match=f"not unique in {side} dataset"):
            merge_one_to_one(left, right, on=on, how=how)
        return
    pd.testing.assert_frame_equal(merge_one_to_one(left, right, on=on, how=how), expected)


def test_rows_with_the_same_keys_in_order_are_not_joined(monkeypatch):
    left = pd.DataFrame({"application_id": IDS, "score": [0.1, 0.2, 0.3, 0.4]})
    beside = pd.DataFrame({"application_id": IDS, "route": ["a", "b", "a", "c"]})
    expected = left.merge(beside, on="application_id", validate="one_to_one")

    def no_join(*args, **kwargs):
        raise AssertionError("joined")

    monkeypatch.setattr(pd.DataFrame, "merge", no_join)
    pd.testing.assert_frame_equal(merge_one_to_one(left, beside, on="application_id"), expected)
    with pytest.raises(AssertionError, match="joined"):
        merge_one_to_one(left, beside.iloc[::-1], on="application_id")


def test_a_repeated_key_is_refused_on_either_side():
    frame = pd.DataFrame({"application_id": ["A1", "A2"], "v": [1, 2]})
    twice = pd.DataFrame({"application_id": ["A1", "A1"], "w": [1, 2]})
    with pytest.raises(pd.errors.MergeError, match="not unique in right dataset"):
        merge_one_to_one(frame, twice, on="application_id", how="left")
    with pytest.raises(pd.errors.MergeError, match="not unique in left dataset"):
        merge_one_to_one(twice, frame, on="application_id")
    numbers = pd.DataFrame({"k": [1.0, np.nan, np.nan], "v": [1, 2, 3]})
    with pytest.raises(pd.errors.MergeError, match="not unique in left dataset"):
        merge_one_to_one(numbers, numbers.iloc[[0]], on="k")


def _day_columns():
    days = pd.Series(pd.to_datetime(["2026-01-03", "2026-01-01", None, "2026-01-03", "2026-02-28"]), name="application_date")
    yield days
    yield days.astype("datetime64[us]")
    yield pd.Series(["2026-01-03 23:59:59", "2026-01-01 00:00:00", None, "2025-12-31 12:00:00", "2026-01-02 08:00:00"], name="when")
    yield pd.Series(pd.to_datetime(["2026-01-03 23:30", "2026-01-01 00:30", None, "2026-01-02 12:00", "2025-12-31 23:59"]).tz_localize("Europe/Madrid"))
    yield pd.Series([dt.date(2026, 1, 2), dt.date(2026, 1, 1), None, dt.date(2026, 1, 3), dt.date(2026, 1, 2)], dtype=object, index=[5, 7, 9, 11, 13])
    yield pd.Series([], dtype="datetime64[us]")


@pytest.mark.parametrize("values", list(_day_columns()))
def test_calendar_days_are_pandas_dt_date(values):
    pd.testing.assert_series_equal(calendar_days(values), pd.to_datetime(values).dt.date)


@pytest.mark.parametrize("values", list(_day_columns()))
@pytest.mark.parametrize("first, last", [(dt.date(2026, 1, 1), dt.date(2026, 1, 2)), (dt.date(2026, 1, 3), dt.date(2026, 1, 3)), (dt.date(2025, 1, 1), dt.date(2027, 1, 1))])
def test_on_days_is_comparing_calendar_days(values, first, last):
    days = pd.to_datetime(values).dt.date
    expected = (days >= first) & (days <= last)
    assert on_days(values, first, last).tolist() == expected.tolist()
    assert list(on_days(values, first, last).index) == list(values.index)
    assert on_days(values, None, last).tolist() == (days <= last).tolist()
