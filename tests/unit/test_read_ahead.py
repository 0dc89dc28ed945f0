import threading
import time

import duckdb
import pytest

from keel.read_ahead import read_ahead


def test_items_come_in_order_and_all_of_them():
    assert list(read_ahead(range(1000))) == list(range(1000))
    assert list(read_ahead(range(1000), depth=3)) == list(range(1000))
    assert list(read_ahead([])) == []


def test_items_are_made_in_another_thread_while_the_caller_works():
    made_in = []
    second_made = threading.Event()

    def items():
        for number in range(3):
            made_in.append(threading.current_thread().name)
            if number == 1:
                second_made.set()
            yield number

    for number in read_ahead(items()):
        if number == 0:
            # Item 1 is made while the caller still holds item 0, without the caller asking for it.
            assert second_made.wait(timeout=30)
    assert set(made_in) == {"keel-read-ahead"}


def test_the_producer_runs_at_most_depth_items_ahead():
    made = []

    def items():
        for number in range(100):
            made.append(number)
            yield number

    stream = read_ahead(items(), depth=2)
    assert next(stream) == 0
    deadline = time.monotonic() + 30
    while len(made) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    # 0 with the caller, 1 and 2 queued, 3 made and waiting for room.
    assert made == [0, 1, 2, 3]
    stream.close()


def test_an_error_making_an_item_is_raised_at_that_item():
    def items():
        yield 1
        yield 2
        raise ValueError("row 3 of applications.csv: amount is not a number")

    received = []
    with pytest.raises(ValueError, match="row 3 of applications.csv"):
        for item in read_ahead(items()):
            received.append(item)
    assert received == [1, 2]


def test_a_caller_stopping_early_stops_the_producer_and_closes_the_source_in_its_thread():
    closed_in = []

    def items():
        try:
            number = 0
            while True:
                yield number
                number += 1
        finally:
            closed_in.append(threading.current_thread().name)

    before = threading.active_count()
    with pytest.raises(RuntimeError, match="insert failed"):
        for item in read_ahead(items()):
            if item == 5:
                raise RuntimeError("insert failed")
    assert closed_in == ["keel-read-ahead"]
    assert threading.active_count() == before, "the producer thread is gone"


def test_a_duckdb_cursor_streams_from_the_producer_while_the_caller_writes(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create table source as select range as v from range(100000)")
        con.execute("create table copy (v bigint)")
        reader = con.cursor()
        batches = reader.sql("select v from source order by v").to_arrow_reader(10_000)
        for batch in read_ahead(batches):
            con.register("incoming", batch)
            con.execute("insert into copy select v from incoming")
            con.unregister("incoming")
        reader.close()
        assert con.execute("select count(*), sum(v) from copy").fetchone() == (100000, sum(range(100000)))


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth must be at least 1"):
        list(read_ahead([1], depth=0))
