"""Several processes write and read the control store at once without "database is locked"."""

from __future__ import annotations

import multiprocessing
import traceback

import pytest

from keel.control_store import ControlStore

WRITERS = 4
READERS = 2
MOVES_PER_WRITER = 15


def _writer(path, number, start, results):
    try:
        start.wait(timeout=30)
        store = ControlStore(path)  # every process opens (and possibly creates) the file at once
        added_shared = store.register_model_version("m-shared", "0" * 64, {}, None, ["x"], {})
        for move in range(MOVES_PER_WRITER):
            version = f"m-w{number}-{move}"
            store.register_model_version(version, "1" * 64, {"roc_auc": 0.8}, ("2026-01-01", "2026-01-02"), ["x"], {})
            store.record_approval(version, by=f"writer-{number}", reason="concurrency test")
            store.move_alias("champion", version, by=f"writer-{number}", reason="concurrency test")
            store.record_event("test", {"writer": number, "move": move})
        results.put(("writer", number, added_shared, None))
    except BaseException:
        results.put(("writer", number, None, traceback.format_exc()))


def _reader(path, number, start, writers_done, results):
    try:
        start.wait(timeout=30)
        store = ControlStore(path)
        reads = 0
        while not writers_done.is_set() or reads == 0:
            current = store.current_alias("champion")
            if current is not None and store.get_model_version(current) is None:
                raise AssertionError(f"champion points at {current}, which the registry does not hold")
            history = store.alias_history("champion")
            if [m["alias_seq"] for m in history] != list(range(1, len(history) + 1)):
                raise AssertionError("alias history has a gap")
            store.list_model_versions()
            reads += 1
        results.put(("reader", number, reads, None))
    except BaseException:
        results.put(("reader", number, None, traceback.format_exc()))


@pytest.mark.timeout(120)
def test_concurrent_writers_and_readers_from_several_processes(tmp_path):
    context = multiprocessing.get_context("fork")
    path = tmp_path / "control.sqlite"  # not created yet: the processes race to create it
    start = context.Barrier(WRITERS + READERS)
    writers_done = context.Event()
    results = context.Queue()
    writers = [context.Process(target=_writer, args=(path, n, start, results)) for n in range(WRITERS)]
    readers = [context.Process(target=_reader, args=(path, n, start, writers_done, results)) for n in range(READERS)]
    for process in writers + readers:
        process.start()
    outcomes = [results.get(timeout=90) for _ in writers]
    writers_done.set()
    outcomes += [results.get(timeout=90) for _ in readers]
    for process in writers + readers:
        process.join(timeout=30)

    errors = [error for *_, error in outcomes if error]
    assert not errors, "\n".join(errors)
    assert all(process.exitcode == 0 for process in writers + readers)
    assert sorted(added for role, _, added, _ in outcomes if role == "writer") == [False] * (WRITERS - 1) + [True]
    assert all(reads > 0 for role, _, reads, _ in outcomes if role == "reader")

    store = ControlStore(path)
    total = WRITERS * MOVES_PER_WRITER
    assert len(store.list_model_versions()) == total + 1
    history = store.alias_history("champion")
    assert [m["alias_seq"] for m in history] == list(range(1, total + 1))
    # Each move's from_version is the previous move's target: no two writers saw the same "current".
    assert all(later["from_version"] == earlier["to_version"] for earlier, later in zip(history, history[1:]))
    assert len(store.events("test")) == total
    assert sum(len(store.approvals_for(f"m-w{n}-{m}")) for n in range(WRITERS) for m in range(MOVES_PER_WRITER)) == total
