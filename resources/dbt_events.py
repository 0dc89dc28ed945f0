"""dagster-dbt's event post-processing without a busy wait.

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
from typing import TypeVar

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
