"""Human review: the queue's way out to reviewers and their decisions' way back in, as data.

Reviewers' decisions arrive as JSON Lines files in KEEL_HOME/review/inbox
(written by the CLI, or imported from a filled-in spreadsheet), are checked
line by line, and combine with the policy's routes into the decision that
stands for each application. Nothing here imports Dagster.
"""

from keel.lazy_exports import lazy_exports

# Each name is imported from its module on first use (PEP 562): the review
# sensor's tick and review_sla_sensor's need only keel.review.inbox_listing
# and keel.review.queue_view, and importing this package for them should not
# bring in pandas. The function final_decisions is imported from its module
# (keel.review.final_decisions): once that module is loaded, the package's
# attribute of the same name is the module.
_MODULE_OF = {
    **dict.fromkeys(("DECIDED_BY_AUTO", "DECIDED_BY_REVIEWER", "FINAL_COLUMNS", "PENDING"), "keel.review.final_decisions"),
    **dict.fromkeys(
        (
            "ACCEPTED_COLUMNS",
            "INBOX_FIELDS",
            "REVIEW_DECISIONS",
            "InboxResult",
            "Rejection",
            "inbox_line",
            "validate_inbox_file",
            "write_inbox_file",
            "write_rejections",
        ),
        "keel.review.inbox",
    ),
    **dict.fromkeys(("due_by", "review_alerts", "review_measures"), "keel.review.measures"),
    **dict.fromkeys(("ReviewCsvError", "export_queue_csv", "import_review_csv"), "keel.review.spreadsheet"),
}

__getattr__ = lazy_exports(__name__, _MODULE_OF, globals())


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
    "import_review_csv",
    "inbox_line",
    "review_alerts",
    "review_measures",
    "validate_inbox_file",
    "write_inbox_file",
    "write_rejections",
]
