"""The shared vocabulary of the credit workflow: column names at each layer.

Landing files use the source system's names (lower-cased seed columns); dbt's
staging layer renames them to business names; the feature mart adds derived
ratios. Every module that names a column imports it from here.
"""

from __future__ import annotations

import re

# --- landing: applications file, as the source system sends it ---------------
APPLICATION_ID = "application_id"
# The contract's application id pattern: checked before an id from outside reaches a file name or a query.
APPLICATION_ID_PATTERN = re.compile(r"A[0-9]{6,9}")
APPLICATION_DATE = "application_date"
SOURCE_APPLICATION_COLUMNS: tuple[str, ...] = (
    APPLICATION_ID,
    APPLICATION_DATE,
    "seniority",
    "home",
    "time",
    "age",
    "marital",
    "records",
    "job",
    "expenses",
    "income",
    "assets",
    "debt",
    "amount",
    "price",
)

# --- landing: repayment outcomes file ----------------------------------------
OUTCOME_DATE = "outcome_date"
REPAYMENT_STATUS = "status"  # "good" | "bad"
SOURCE_OUTCOME_COLUMNS: tuple[str, ...] = (APPLICATION_ID, OUTCOME_DATE, REPAYMENT_STATUS)

# --- feature mart (dbt: application_features) --------------------------------
NUMERIC_FEATURES: tuple[str, ...] = (
    "seniority_years",
    "loan_term_months",
    "age",
    "expenses",
    "income",
    "assets",
    "debt",
    "amount",
    "price",
    "has_records",
    "loan_to_price",
    "installment_to_income",
)
CATEGORICAL_FEATURES: tuple[str, ...] = ("home", "marital", "job")
MODEL_FEATURES: tuple[str, ...] = NUMERIC_FEATURES + CATEGORICAL_FEATURES

# Segments that outcomes are compared across (fairness and monitoring).
SEGMENT_COLUMNS: tuple[str, ...] = ("age_band", "home", "marital", "job")
AGE_BANDS: tuple[tuple[int, int, str], ...] = (
    (0, 25, "18-25"),
    (26, 35, "26-35"),
    (36, 45, "36-45"),
    (46, 55, "46-55"),
    (56, 200, "56+"),
)

# --- scoring and decisions ---------------------------------------------------
SCORE = "p_bad"  # calibrated probability that the applicant repays badly
ROUTE_APPROVE = "approve"
ROUTE_DECLINE = "decline"
ROUTE_REVIEW = "review"
ROUTES: tuple[str, ...] = (ROUTE_APPROVE, ROUTE_DECLINE, ROUTE_REVIEW)
LABEL_BAD = "bad"
LABEL_GOOD = "good"

# --- review outcomes ----------------------------------------------------------
# The order reviewers' decisions were taken in: each inbox file's place in the
# order files were taken in, then the line. A case's last decision stands.
REVIEW_TAKEN_IN_ORDER: tuple[str, ...] = ("ingest_seq", "source_file", "line_number")
