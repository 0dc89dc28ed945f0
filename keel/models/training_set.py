"""The labelled training set: every application whose repayment outcome is known, with its features.

An application's outcome may land more than once: the source corrects it on
a later day (a late payment booked, a default reversed). The model learns
from the latest outcome only; learning from both would count the
application twice, under two labels.
"""

from __future__ import annotations

from keel.warehouse import fetch_one

TRAINING_SET_SQL = """
select f.*, o.repayment_status, o.is_bad, o.outcome_date
from marts.application_features f
join (
    select * from staging.stg_outcomes
    qualify row_number() over (partition by application_id order by outcome_date desc) = 1
) o using (application_id)
order by f.application_id
"""


def write_training_set(con) -> tuple[int, float | None, object, object]:
    """Replace model.training_set; its row count, bad rate and first and last application dates."""
    con.execute("create schema if not exists model")
    con.execute(f"create or replace table model.training_set as {TRAINING_SET_SQL}")
    return fetch_one(con, "select count(*), avg(is_bad), min(application_date), max(application_date) from model.training_set")
