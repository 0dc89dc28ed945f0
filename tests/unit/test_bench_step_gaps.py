"""The time a run spends starting its steps, from the steps' start and end times."""

import pytest

from keel.bench.daily_path import seconds_between_steps


def test_the_gaps_between_steps_one_after_another_add_up():
    windows = {"ingest": (100.0, 105.0), "dbt": (105.3, 108.0), "scores": (108.2, 120.0)}
    assert seconds_between_steps(windows) == pytest.approx(0.5)


def test_steps_are_taken_in_the_order_they_started_not_as_named():
    windows = {"b": (10.0, 11.0), "a": (0.0, 9.0), "c": (11.5, 12.0)}
    assert seconds_between_steps(windows) == pytest.approx(1.5)


def test_overlapping_steps_leave_no_gap_and_a_gap_after_the_longer_one_counts_from_its_end():
    windows = {"long": (0.0, 10.0), "inside": (2.0, 3.0), "next": (10.4, 11.0)}
    assert seconds_between_steps(windows) == pytest.approx(0.4)


def test_a_single_step_or_none_has_no_gap():
    assert seconds_between_steps({"only": (1.0, 2.0)}) == 0.0
    assert seconds_between_steps({}) == 0.0
