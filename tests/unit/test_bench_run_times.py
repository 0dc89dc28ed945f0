"""Run and step times read back from a run's events (keel/bench/run_times.py)."""

from types import SimpleNamespace

import dagster as dg

from keel.bench.run_times import RunTimes, run_times_from_events, summarize_run_times

START, SUCCESS, FAILURE = dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE


def _entry(timestamp: float, event_type=None, step: str | None = None):
    event = SimpleNamespace(event_type=event_type, step_key=step) if event_type else None
    return SimpleNamespace(timestamp=timestamp, dagster_event=event)


def test_a_runs_times_span_its_events_and_each_step_its_start_to_its_end():
    entries = [
        _entry(100.0),
        _entry(101.0, START, "ingest"),
        _entry(103.5, SUCCESS, "ingest"),
        _entry(104.0, START, "dbt"),
        _entry(110.0, FAILURE, "dbt"),
        _entry(111.0, START, "never_ended"),
        _entry(112.0),
    ]
    times = run_times_from_events("r1", entries)
    assert times == RunTimes("r1", 12.0, {"ingest": 2.5, "dbt": 6.0})
    assert run_times_from_events("r2", []) is None


def test_the_summary_gives_median_and_longest_per_run_and_per_step_longest_median_first():
    runs = [
        RunTimes("a", 10.0, {"dbt": 4.0, "ingest": 1.0}),
        RunTimes("b", 14.0, {"dbt": 6.0, "ingest": 0.5}),
        RunTimes("c", 11.0, {"dbt": 5.0}),
    ]
    summary = summarize_run_times("daily", runs)
    assert summary["runs"] == 3 and summary["run_ids"] == ["a", "b", "c"]
    assert summary["run_s"] == {"median": 11.0, "max": 14.0, "runs": 3}
    assert list(summary["steps"]) == ["dbt", "ingest"]
    assert summary["steps"]["dbt"] == {"median": 5.0, "max": 6.0, "runs": 3}
    assert summary["steps"]["ingest"] == {"median": 0.75, "max": 1.0, "runs": 2}


def test_no_runs_summarize_to_none_rather_than_failing():
    assert summarize_run_times("daily", []) == {"job": "daily", "runs": 0, "run_s": None, "steps": {}, "run_ids": []}
