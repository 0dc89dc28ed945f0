"""When a pending review case counts as overdue in `keel review list` and `keel status` (keel/review/queue_view.py)."""

import datetime as dt

from keel.review.queue_view import overdue

NOW = dt.datetime(2026, 1, 2, 12, 0, tzinfo=dt.timezone.utc)


def test_a_pending_case_past_its_due_time_is_overdue_and_one_not_yet_due_is_not():
    assert overdue("2026-01-02T06:00:00+00:00", decided=False, now=NOW)
    assert not overdue("2026-01-02T18:00:00+00:00", decided=False, now=NOW)


def test_the_offset_is_honoured_and_a_time_without_one_is_utc():
    assert not overdue("2026-01-02T13:30:00+01:00", decided=False, now=NOW)  # 12:30 UTC
    assert overdue("2026-01-02T11:59:00", decided=False, now=NOW)
    assert overdue("2026-01-02 06:00:00+00:00", decided=False, now=NOW)  # as pandas prints a timestamp


def test_a_decided_case_or_one_without_a_due_time_is_never_overdue():
    assert not overdue("2026-01-01T00:00:00+00:00", decided=True, now=NOW)
    assert not overdue(None, decided=False, now=NOW)


def test_the_waiting_cases_are_counted_per_day_and_due_time_and_a_case_with_any_standing_decision_is_not_waiting():
    import duckdb

    from keel.review.queue_view import WaitingCases, waiting_by_day

    con = duckdb.connect()
    con.execute("create schema review")
    assert waiting_by_day(con) == []  # before the first queue
    con.execute(
        "create table review.review_queue as select application_id, cast(application_date as date) as application_date, due_by from (values "
        "('A1', '2026-01-01', '2026-01-02T06:00:00+00:00'), ('A2', '2026-01-01', '2026-01-02T06:00:00+00:00'), "
        "('A3', '2026-01-02', '2026-01-03T06:00:00+00:00'), ('A4', '2026-01-02', null)) "
        "t(application_id, application_date, due_by)"
    )
    first_day, second_day = "2026-01-01", "2026-01-02"
    assert waiting_by_day(con) == [
        WaitingCases(first_day, "2026-01-02T06:00:00+00:00", 2), WaitingCases(second_day, "2026-01-03T06:00:00+00:00", 1), WaitingCases(second_day, None, 1)
    ]
    # A2 decided, then amended: one standing decision, the case no longer waits.
    con.execute(
        "create table review.review_outcomes as select * from (values "
        "('A2', 'decline', 'mchen', 'r', 1, 'inbox-1.jsonl', 1), ('A2', 'approve', 'mchen', 'amended', 2, 'inbox-2.jsonl', 1)) "
        "t(application_id, decision, reviewer, reason, ingest_seq, source_file, line_number)"
    )
    assert [(w.day, w.cases) for w in waiting_by_day(con)] == [(first_day, 1), (second_day, 1), (second_day, 1)]
