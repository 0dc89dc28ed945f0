"""Human review: the queue's way out to reviewers and their decisions' way back in, as data.

Reviewers' decisions arrive as JSON Lines files in KEEL_HOME/review/inbox
(written by the CLI, or imported from a filled-in spreadsheet), are checked
line by line, and combine with the policy's routes into the decision that
stands for each application. Nothing here imports Dagster.
"""

from keel.review.final_decisions import DECIDED_BY_AUTO, DECIDED_BY_REVIEWER, FINAL_COLUMNS, PENDING, final_decisions
from keel.review.inbox import (
    ACCEPTED_COLUMNS,
    INBOX_FIELDS,
    REVIEW_DECISIONS,
    InboxResult,
    Rejection,
    inbox_line,
    validate_inbox_file,
    write_inbox_file,
    write_rejections,
)
from keel.review.measures import due_by, review_alerts, review_measures
from keel.review.spreadsheet import ReviewCsvError, export_queue_csv, import_review_csv

__all__ = [
    "ACCEPTED_COLUMNS",
    "DECIDED_BY_AUTO",
    "DECIDED_BY_REVIEWER",
    "FINAL_COLUMNS",
    "INBOX_FIELDS",
    "PENDING",
    "REVIEW_DECISIONS",
    "InboxResult",
    "Rejection",
    "ReviewCsvError",
    "due_by",
    "export_queue_csv",
    "final_decisions",
    "import_review_csv",
    "inbox_line",
    "review_alerts",
    "review_measures",
    "validate_inbox_file",
    "write_inbox_file",
    "write_rejections",
]
