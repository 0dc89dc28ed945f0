"""dagster-dbt's event post-processing: only for what dbt built, and without a busy wait.

`DbtEventIterator.fetch_column_metadata()` asks the adapter for the columns
of every event's node and of its parents, and parses its SQL for column
lineage: its tests' too, though a test has no relation of its own and the
check results and observations it becomes carry neither. On a day of 3
models and 12 tests that was 12 lookups of a test's own relation (a macro
rendered and a query each), 12 of its parent's (mostly from dagster-dbt's
cache) and 12 attempts at a test's column lineage, in threads sharing the
GIL with the models' own fetches. `with_column_metadata_of_built_nodes`
sends only the models' events through it: on a 10k-row day the dbt step's
time after dbt finished went from 0.90-1.23 s to 0.81-1.06 s (three runs
each, alternating), of which ~0.4 s is Dagster storing the 15 events.

`DbtEventIterator.fetch_column_metadata()` maps dbt's events through a thread
pool with Dagster's `imap`, which loops without sleeping while its queue of
work is empty and the thread reading dbt's events has not finished. On DuckDB
that is the whole dbt run: dagster-dbt reads every event before fetching any
column metadata (dbt holds the database's write lock until it exits). py-spy
over an in-process 10k-row day showed the step's main thread spending 4.7 s of
dbt_transform's 8.8 s in that loop, taking a core from dbt and the GIL from the
thread reading dbt's output. `ordered_threadpool_map` gives the same results
in the same order, tailing the input the same way, and blocks while it waits.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import dagster as dg

if TYPE_CHECKING:
    from dagster_dbt import DbtCliInvocation

T = TypeVar("T")
R = TypeVar("R")

_END = object()


def ordered_threadpool_map(executor: ThreadPoolExecutor, iterable: Iterator[T], func: Callable[[T], R]) -> Iterator[R]:
    """`func` over `iterable` on `executor`, results in input order, starting before the input is exhausted.

    A task of the pool tails `iterable` and submits one call per element; the
    caller blocks on the next result in order. An exception raised by the
    input is raised after the results of the elements before it, as with
    Dagster's `imap`.
    """
    submitted: queue.SimpleQueue[Future | object] = queue.SimpleQueue()

    def submit_each() -> None:
        try:
            for item in iterable:
                submitted.put(executor.submit(func, item))
        finally:
            submitted.put(_END)

    tailing = executor.submit(submit_each)
    while (future := submitted.get()) is not _END:
        yield future.result()
    error = tailing.exception()
    if error is not None:
        raise error


@contextmanager
def dbt_events_without_busy_wait():
    """While open, dagster-dbt's event post-processing (column metadata) maps with `ordered_threadpool_map`.

    dagster-dbt has no hook for it, so its module's `imap` is swapped and
    restored on exit; a step runs one dbt invocation at a time.
    """
    from dagster_dbt.core import dbt_event_iterator

    original = dbt_event_iterator.imap
    dbt_event_iterator.imap = ordered_threadpool_map
    try:
        yield
    finally:
        dbt_event_iterator.imap = original


def is_built_node_event(event: Any) -> bool:
    """Whether a dbt event is a node dbt built (a model, seed or snapshot: an Output or a materialization), not a test's result."""
    return isinstance(event, (dg.Output, dg.AssetMaterialization))


def with_column_metadata_of_built_nodes(invocation: "DbtCliInvocation") -> Iterator[Any]:
    """The invocation's events in dbt's order, those of built nodes with dagster-dbt's column schema and lineage.

    On DuckDB dagster-dbt reads every event before it fetches any column
    metadata (dbt holds the database until it exits), so reading them all
    here first changes nothing; a failure of the invocation is raised after
    the events before it, as dagster-dbt does.
    """
    from dagster_dbt.core.dbt_event_iterator import DbtEventIterator

    events: list = []
    failure: Exception | None = None
    try:
        events.extend(invocation.stream())
    except Exception as error:  # noqa: BLE001 - raised again after the events that came before it
        failure = error
    built = DbtEventIterator(iter([event for event in events if is_built_node_event(event)]), dbt_cli_invocation=invocation)
    with_metadata = iter(built.fetch_column_metadata())
    for event in events:
        yield next(with_metadata) if is_built_node_event(event) else event
    if failure is not None:
        raise failure


def with_days_on_dbt_test_results(events: Iterator[Any], days: str) -> Iterator[Any]:
    """dbt's test results as check results that say which `days` they judged, and how.

    dagster-dbt gives a test's check result no description, and a check's
    history in the UI lists results by the time they ran: each of keel's own
    checks names its day, and so does each dbt test, with its status and
    failing rows (from dagster-dbt's metadata).
    """
    for event in events:
        if isinstance(event, dg.AssetCheckResult) and event.description is None:
            status = getattr(event.metadata.get("status"), "value", None) or ("pass" if event.passed else "fail")
            failing = getattr(event.metadata.get("dagster_dbt/failed_row_count"), "value", None)
            counted = f", {failing} failing rows" if failing else ""
            event = event._replace(description=f"{days}: dbt test {status}{counted}")
        yield event
