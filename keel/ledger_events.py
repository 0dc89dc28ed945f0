"""Review and repayment-outcome events for the decision ledger.

The ledger holds one batch per day and event type; its latest batch is the
day's record as it stands. Review and outcome events are therefore written
cumulatively: each new batch for an application day carries every review (or
every known outcome) of that day so far, so nothing recorded earlier
disappears from the current view, and the older batches stay in the chain.
"""

from __future__ import annotations

import pandas as pd

from keel.columns import APPLICATION_DATE, APPLICATION_ID, REVIEW_TAKEN_IN_ORDER

REVIEW = "review"
OUTCOME = "outcome"


def _day(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.date.astype("str")


def review_event_rows(outcomes: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Ledger rows of accepted reviewer decisions (review.review_outcomes), per application day.

    A case a reviewer amended has a row per decision, in the order they were
    taken in (the last one stands), whatever order the query returned them in.
    """
    if outcomes.empty:
        return {}
    outcomes = outcomes.sort_values([APPLICATION_ID, *REVIEW_TAKEN_IN_ORDER], kind="stable")
    rows = pd.DataFrame(
        {
            APPLICATION_ID: outcomes[APPLICATION_ID],
            APPLICATION_DATE: _day(outcomes[APPLICATION_DATE]),
            # Where the decision came from: the inbox file, its sha256 and line.
            "source_file": outcomes["source_file"],
            "source_sha256": outcomes["source_sha256"],
            "source_row_number": outcomes["line_number"],
            "route": "review",
            "decided_by": "reviewer",
            "reviewer": outcomes["reviewer"],
            "review_reason": outcomes["reason"],
            "reviewed_at": pd.to_datetime(outcomes["reviewed_at"], utc=True).map(lambda t: t.isoformat()),
            "final_decision": outcomes["decision"],
            "run_ids": outcomes["run_id"].map(lambda run: f'{{"review_outcomes": "{run}"}}'),
        }
    )
    return {day: group.reset_index(drop=True) for day, group in rows.groupby(APPLICATION_DATE)}


def outcome_event_rows(known: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Ledger rows of repayment outcomes known for decided applications, per application day.

    `known` (raw.outcomes joined with the decisions): application_id,
    application_date, status, source_file, source_sha256, source_row_number.
    """
    if known.empty:
        return {}
    rows = pd.DataFrame(
        {
            APPLICATION_ID: known[APPLICATION_ID],
            APPLICATION_DATE: _day(known[APPLICATION_DATE]),
            "source_file": known["source_file"],
            "source_sha256": known["source_sha256"],
            "source_row_number": known["source_row_number"],
            "repayment_status": known["status"],
        }
    )
    # An outcome the source corrected on a later day is a second row for the application: both are
    # recorded, in the order they landed (outcome files are named by day), so the batch hashes the same
    # whatever order the query returned them in.
    order = [APPLICATION_ID, "source_file", "source_row_number"]
    return {day: group.sort_values(order, kind="stable").reset_index(drop=True) for day, group in rows.groupby(APPLICATION_DATE)}
