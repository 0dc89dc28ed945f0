"""Producing the next item of a stream on a second core while the caller works on this one.

keel's steps stream a large day a frame at a time: one part makes a frame
(reads it from DuckDB, judges it against the contract, turns it into text),
another stores it (DuckDB inserts it, sha256 hashes it). On a two-core
machine both parts spend most of their time in native code that lets go of
the GIL (DuckDB, Arrow's kernels, hashlib), so making frame N+1 in a thread
while frame N is stored overlaps the two.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
# How often a blocked producer looks whether the consumer has gone away.
_POLL_SECONDS = 0.1


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


def read_ahead(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """The items of `items`, in order, each made in a background thread up to `depth` items ahead of the caller.

    An exception raised while making an item is raised to the caller at that
    item. When the caller stops early (an error while storing, or closing the
    generator), the producer stops after the item it is making and `items`
    is closed in the producer's thread, so that a cursor it streams from is
    not read from two threads. Memory: up to `depth` + 1 items at once
    besides the caller's.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1; found {depth}")
    made: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(item: object) -> bool:
        while not stop.is_set():
            try:
                made.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        source = iter(items)
        try:
            for item in source:
                if not hand_over(item):
                    return
            hand_over(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, who raises it
            hand_over(_Failure(error))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    producer = threading.Thread(target=produce, name="keel-read-ahead", daemon=True)
    producer.start()
    try:
        while True:
            item = made.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        producer.join()
