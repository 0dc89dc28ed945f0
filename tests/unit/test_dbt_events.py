"""dagster-dbt's event post-processing mapped in order, lazily, and without spinning while it waits."""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import pytest
from dagster._core.utils import imap as dagster_imap

from resources.dbt_events import dbt_events_without_busy_wait, ordered_threadpool_map, with_days_on_dbt_test_results


def _slow_square(value: int) -> int:
    time.sleep(random.Random(value).uniform(0, 0.01))
    return value * value


def test_results_come_in_input_order_as_with_dagsters_imap():
    with ThreadPoolExecutor(max_workers=4) as executor:
        ours = list(ordered_threadpool_map(executor, iter(range(60)), _slow_square))
    with ThreadPoolExecutor(max_workers=4) as executor:
        theirs = list(dagster_imap(executor, iter(range(60)), _slow_square))
    assert ours == theirs == [value * value for value in range(60)]


def test_the_first_result_comes_before_the_input_is_exhausted():
    first_result_seen = threading.Event()

    def events():
        yield 1
        if not first_result_seen.wait(timeout=10):
            raise AssertionError("the map waited for the whole input before giving its first result")
        yield 2

    with ThreadPoolExecutor(max_workers=2) as executor:
        results = ordered_threadpool_map(executor, events(), _slow_square)
        assert next(results) == 1
        first_result_seen.set()
        assert list(results) == [4]


def test_an_error_in_the_input_comes_after_the_results_before_it():
    def events():
        yield 2
        yield 3
        raise ValueError("dbt's output ended badly")

    seen = []
    with ThreadPoolExecutor(max_workers=2) as executor, pytest.raises(ValueError, match="ended badly"):
        for result in ordered_threadpool_map(executor, events(), _slow_square):
            seen.append(result)
    assert seen == [4, 9]


def test_an_error_in_the_function_reaches_the_caller():
    def fail_on_three(value: int) -> int:
        if value == 3:
            raise RuntimeError("no column metadata for 3")
        return value

    with ThreadPoolExecutor(max_workers=2) as executor, pytest.raises(RuntimeError, match="for 3"):
        list(ordered_threadpool_map(executor, iter(range(5)), fail_on_three))


def test_waiting_for_slow_input_costs_the_caller_no_cpu():
    # The reason for the replacement: Dagster's imap loops without sleeping here.
    def slow_events():
        time.sleep(1.0)
        yield 5

    with ThreadPoolExecutor(max_workers=2) as executor:
        cpu_before = time.thread_time()
        assert list(ordered_threadpool_map(executor, slow_events(), _slow_square)) == [25]
        cpu_spent = time.thread_time() - cpu_before
    assert cpu_spent < 0.3, f"the caller's thread used {cpu_spent:.2f} s of CPU waiting one second for input"


def test_the_swap_is_scoped_to_the_block():
    from dagster_dbt.core import dbt_event_iterator

    original = dbt_event_iterator.imap
    with pytest.raises(KeyError):
        with dbt_events_without_busy_wait():
            assert dbt_event_iterator.imap is ordered_threadpool_map
            raise KeyError("a failing dbt step")
    assert dbt_event_iterator.imap is original


class _FinishedInvocation:
    """What the function reads of a dbt invocation: its events, then the error dbt ended with, if any."""

    def __init__(self, events, error=None):
        self.events, self.error = events, error

    def stream(self):
        yield from self.events
        if self.error is not None:
            raise self.error


def _dbt_events():
    import dagster as dg

    model = dg.Output(None, output_name="stg_applications", metadata={"unique_id": "model.keel.stg_applications"})
    source_test = dg.AssetObservation(asset_key="raw_applications", metadata={"unique_id": "test.keel.source_not_null"})
    model_test = dg.AssetCheckResult(asset_key="stg_applications", check_name="not_null_stg_applications_application_id", passed=True)
    seed = dg.AssetMaterialization(asset_key="seed_codes", metadata={"unique_id": "seed.keel.codes"})
    return [source_test, model, model_test, seed]


def _text(value):
    return getattr(value, "text", value)


@pytest.fixture
def fetched(monkeypatch):
    """dagster-dbt's column metadata fetch, recording the events it is given and marking them."""
    from dagster_dbt.core.dbt_event_iterator import DbtEventIterator

    given = []

    def fetch_column_metadata(self, with_column_lineage=True):
        for event in self:
            given.append(event)
            yield event.with_metadata({**event.metadata, "column_metadata": "fetched"})

    monkeypatch.setattr(DbtEventIterator, "fetch_column_metadata", fetch_column_metadata)
    return given


def test_only_the_nodes_dbt_built_get_column_metadata_and_the_order_is_dbts(fetched):
    from resources.dbt_events import with_column_metadata_of_built_nodes

    events = _dbt_events()
    out = list(with_column_metadata_of_built_nodes(_FinishedInvocation(events)))

    assert fetched == [events[1], events[3]]
    assert [type(event).__name__ for event in out] == ["AssetObservation", "Output", "AssetCheckResult", "AssetMaterialization"]
    assert [_text(event.metadata.get("column_metadata")) for event in out] == [None, "fetched", None, "fetched"]
    assert out[0] is events[0] and out[2] is events[2]


def test_a_failed_dbt_run_gives_the_events_before_its_error_then_the_error(fetched):
    from resources.dbt_events import with_column_metadata_of_built_nodes

    events = _dbt_events()[:2]
    out = []
    with pytest.raises(RuntimeError, match="model failed"):
        for event in with_column_metadata_of_built_nodes(_FinishedInvocation(events, RuntimeError("model failed"))):
            out.append(event)
    assert [type(event).__name__ for event in out] == ["AssetObservation", "Output"]
    assert _text(out[1].metadata["column_metadata"]) == "fetched"


def test_test_results_are_not_built_nodes():
    from resources.dbt_events import is_built_node_event

    assert [is_built_node_event(event) for event in _dbt_events()] == [False, True, False, True]


def test_dbt_test_results_name_the_days_they_judged_and_other_events_pass_untouched():
    passed = dg.AssetCheckResult(asset_key="stg", check_name="not_null_x", passed=True, metadata={"status": "pass", "dagster_dbt/failed_row_count": 0})
    failed = dg.AssetCheckResult(asset_key="stg", check_name="unique_x", passed=False, metadata={"status": "fail", "dagster_dbt/failed_row_count": 3})
    told = dg.AssetCheckResult(asset_key="stg", check_name="own", passed=True, description="already says")
    output = dg.Output(None, output_name="stg")
    events = list(with_days_on_dbt_test_results(iter([passed, output, failed, told]), "2026-01-04"))
    assert [getattr(e, "description", None) for e in events] == ["2026-01-04: dbt test pass", None, "2026-01-04: dbt test fail, 3 failing rows", "already says"]
    assert events[1] is output and events[2].metadata == failed.metadata and not events[2].passed
