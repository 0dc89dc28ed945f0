"""The review queue as reviewers see it: each queued case with the review decision that stands for it.

Read by `keel review list` and `keel status`; a case is overdue while it
waits past its `due_by` (the policy's SLA from when it was queued).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, NamedTuple

from keel.columns import REVIEW_TAKEN_IN_ORDER

if TYPE_CHECKING:  # the CLI imports this module at startup: pandas and DuckDB only when a queue is read
    import pandas as pd

QUEUE_SQL = """
select q.application_id, cast(q.application_date as date) as application_date, q.p_bad, q.suggested_decision,
       q.reason_codes, q.model_version, q.qa_sampled, q.queued_at, q.due_by,
       o.decision, o.reviewer, o.reason, o.reviewed_at
from review.review_queue q
left join ({latest_outcomes}) o using (application_id)
{where}
order by q.application_date, q.application_id
{limit}
"""


# A case's decision that stands: its latest (an amendment corrects an earlier one).
LATEST_OUTCOMES_SQL = (
    "select * from review.review_outcomes qualify row_number() over "
    f"(partition by application_id order by {', '.join(f'{column} desc' for column in REVIEW_TAKEN_IN_ORDER)}) = 1"
)
NO_OUTCOMES_SQL = (
    "select null::varchar as application_id, null::varchar as decision, null::varchar as reviewer, "
    "null::varchar as reason, null::timestamptz as reviewed_at where false"
)


def read_queue(
    con, day: dt.date | None = None, pending_only: bool = False, limit: int | None = None, application_id: str | None = None
) -> "pd.DataFrame":
    """The review queue with each case's standing review decision, if any; empty before the first queue.

    Of `day` or all days; with `pending_only`, the cases no decision stands for; the first `limit` (oldest first);
    with `application_id`, that case only. The selection is made in the warehouse: a large day's queue is not read
    whole to show a page of it.
    """
    import pandas as pd

    from keel import warehouse as wh

    if not wh.table_exists(con, "review", "review_queue"):
        return pd.DataFrame()
    outcomes = LATEST_OUTCOMES_SQL if wh.table_exists(con, "review", "review_outcomes") else NO_OUTCOMES_SQL
    conditions, params = [], []
    if day:
        conditions.append("cast(q.application_date as date) = cast(? as date)")
        params.append(day.isoformat())
    if application_id:
        conditions.append("q.application_id = ?")
        params.append(application_id)
    if pending_only:
        conditions.append("o.decision is null")
    where = f"where {' and '.join(conditions)}" if conditions else ""
    limited = f"limit {int(limit)}" if limit is not None else ""
    return con.execute(QUEUE_SQL.format(latest_outcomes=outcomes, where=where, limit=limited), params).df()


class CaseDue(NamedTuple):
    due_by: str
    overdue: bool


def pending_case_due(con, application_id: str, now: dt.datetime) -> CaseDue | None:
    """When a queued case no review decision stands for is due, and whether it is past that; None for any other case."""
    queued = read_queue(con, pending_only=True, application_id=application_id)
    due_by = queued["due_by"].iloc[0] if len(queued) else None
    if not isinstance(due_by, str) or not due_by:
        return None
    return CaseDue(due_by, overdue(due_by, False, now))


def queue_counts(con, day: dt.date | None, now: dt.datetime) -> tuple[int, int, int]:
    """(pending, decided, overdue) cases of the queue of `day`, or of all days."""
    from keel import warehouse_connection as wh  # DuckDB alone: review_sla_sensor's tick

    if not wh.table_exists(con, "review", "review_queue"):
        return 0, 0, 0
    where, params = ("where cast(application_date as date) = cast(? as date)", [day.isoformat()]) if day else ("", [])
    total = int(wh.fetch_one(con, f"select count(*) from review.review_queue {where}", params)[0])
    waiting = [w for w in waiting_by_day(con) if day is None or w.day == day.isoformat()]
    pending = sum(w.cases for w in waiting)
    return pending, total - pending, sum(w.cases for w in waiting if overdue(w.due_by, False, now))


class WaitingCases(NamedTuple):
    """The cases of one application day still waiting for a reviewer, and when they are due."""

    day: str
    due_by: str | None
    cases: int


# The cases waiting for a reviewer, counted per application day and due time: a day's cases are queued together,
# so this is a few rows however long the queue.
WAITING_BY_DAY_SQL = """
select cast(cast(q.application_date as date) as varchar) as day, q.due_by, count(*) as cases
from review.review_queue q
left join ({latest_outcomes}) o using (application_id)
where o.decision is null
group by all
order by day, q.due_by
"""


def waiting_by_day(con) -> list[WaitingCases]:
    """The cases waiting for a reviewer per application day and due time, oldest day first; empty before the first queue."""
    from keel import warehouse_connection as wh  # DuckDB alone: review_sla_sensor's tick

    if not wh.table_exists(con, "review", "review_queue"):
        return []
    outcomes = LATEST_OUTCOMES_SQL if wh.table_exists(con, "review", "review_outcomes") else NO_OUTCOMES_SQL
    return [WaitingCases(day, due_by, int(cases)) for day, due_by, cases in con.execute(WAITING_BY_DAY_SQL.format(latest_outcomes=outcomes)).fetchall()]


def due_time(due_by: str) -> dt.datetime:
    """A case's `due_by` (ISO 8601 with an offset; UTC if it has none) as a time."""
    due = dt.datetime.fromisoformat(due_by)
    return due if due.tzinfo else due.replace(tzinfo=dt.timezone.utc)


def overdue(due_by: str | None, decided: bool, now: dt.datetime) -> bool:
    """Whether a case is still waiting past its SLA."""
    if decided or not due_by:
        return False
    return due_time(due_by) < now
