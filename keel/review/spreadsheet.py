"""The review queue as a spreadsheet: exported for reviewers, imported back as inbox decisions.

Many credit officers work in a spreadsheet. The export holds what a reviewer
needs to decide (score, suggested decision, the reasons in words, the
features that weighed most, the deadline) and three empty columns to fill:
decision, reviewer, reason. The import turns filled rows into inbox lines;
rows left without a decision are simply not decided yet. A filled row that is
wrong stops the whole import with every problem listed, so the reviewer fixes
the sheet once instead of discovering half of it was taken.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from keel.columns import APPLICATION_ID, SCORE
from keel.policy.reasons import describe_reasons
from keel.review.inbox import INBOX_FIELDS, LineRefused, check_decision_fields

if TYPE_CHECKING:
    from keel.policy import Policy

# What the reviewer reads, in this order, when the queue has it.
CONTEXT_COLUMNS: tuple[str, ...] = (
    APPLICATION_ID,
    "application_date",
    SCORE,
    "suggested_decision",
    "reasons",
    "reason_codes",
    "top_features",
    "queued_at",
    "due_by",
)
# What the reviewer fills in.
REVIEWER_COLUMNS: tuple[str, ...] = ("decision", "reviewer", "reason")
# The spreadsheet's first data row is row 2 (row 1 is the header).
FIRST_DATA_ROW = 2


class ReviewCsvError(ValueError):
    """A filled-in review sheet has rows that cannot become decisions; the message lists each one."""


def export_queue_csv(queue: pd.DataFrame, path: Path | str, policy: "Policy | None" = None) -> Path:
    """Write the queue for reviewers; `policy` lets the reasons column describe its own rule codes."""
    if APPLICATION_ID not in queue.columns:
        raise ValueError(f"the review queue has no {APPLICATION_ID} column")
    sheet = pd.DataFrame(index=queue.index)
    for column in CONTEXT_COLUMNS:
        if column == "reasons" and "reason_codes" in queue.columns:
            sheet[column] = [" | ".join(describe_reasons(codes, policy)) for codes in queue["reason_codes"].fillna("[]")]
        elif column == SCORE and column in queue.columns:
            sheet[column] = queue[column].round(4)
        elif column in queue.columns:
            sheet[column] = queue[column]
    for column in REVIEWER_COLUMNS:
        sheet[column] = ""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.to_csv(path, index=False, lineterminator="\n")
    return path


# Spreadsheet programs save "CSV" with the locale's list separator: a semicolon where the comma is the decimal mark.
SEPARATORS = (",", ";", "\t")
EXPORT_AGAIN = "export the queue again with `keel review export --date D --out FILE`"


def read_review_sheet(path: Path) -> pd.DataFrame:
    """The sheet's cells as text, whichever separator the spreadsheet program saved it with.

    The separator is the one that splits the header into the sheet's own
    column names (a reason may hold commas, so sniffing the data would guess).
    A file that is no sheet (empty, an Excel workbook, not text) is refused
    with what it is and what to do.
    """
    with path.open("rb") as sheet_file:
        head = sheet_file.read(4096)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReviewCsvError(f"{path}: is a spreadsheet workbook (.xlsx/.xls), not a CSV file: save it as CSV (comma or semicolon separated) and import that")
    try:
        header = head.decode("utf-8-sig").splitlines()[0] if head.strip() else ""
    except UnicodeDecodeError as error:
        raise ReviewCsvError(f"{path}: is not UTF-8 text (byte {error.start} is {head[error.start:error.start + 1]!r}): save it as CSV UTF-8") from None
    if not header.strip():
        raise ReviewCsvError(f"{path}: is empty: expected the header row of a review sheet ({APPLICATION_ID}, ..., {', '.join(REVIEWER_COLUMNS)}); {EXPORT_AGAIN}")
    separator = max(SEPARATORS, key=lambda sep: sum(name.strip().strip('"') in (APPLICATION_ID, *REVIEWER_COLUMNS) for name in header.split(sep)))
    try:
        sheet = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", sep=separator)
    except UnicodeDecodeError as error:
        raise ReviewCsvError(f"{path}: is not UTF-8 text past its header ({error.reason} at byte {error.start}): save it as CSV UTF-8") from None
    except pd.errors.ParserError as error:
        raise ReviewCsvError(f"{path}: cannot be read as a {separator!r}-separated sheet: {error}") from None
    missing = [c for c in (APPLICATION_ID, *REVIEWER_COLUMNS) if c not in sheet.columns]
    if missing:
        raise ReviewCsvError(f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(map(str, sheet.columns[:12]))}); {EXPORT_AGAIN}")
    return sheet


def import_review_csv(path: Path | str, reviewed_at: dt.datetime | None = None, why_not: Callable[[str], str | None] | None = None) -> list[dict]:
    """The filled rows of a review sheet as inbox decisions (fields INBOX_FIELDS).

    A row's own reviewed_at column is used when present and filled; otherwise
    `reviewed_at` (default: now, UTC). Decision values are read case-insensitively.
    `why_not(case)` says why a case cannot take a decision now (not in the
    queue, decided, a decision waiting in the inbox), or None; a filled row for
    such a case is a problem like any other. The inbox ingest checks the queue
    again.
    """
    path = Path(path)
    sheet = read_review_sheet(path)
    default_time = (reviewed_at or dt.datetime.now(dt.timezone.utc)).isoformat()
    decisions: list[dict] = []
    problems: list[str] = []
    first_row_of: dict[str, int] = {}
    for offset, row in enumerate(sheet.to_dict("records")):
        row_number = offset + FIRST_DATA_ROW
        if not row["decision"].strip():
            continue  # not decided yet
        own_time = row.get("reviewed_at", "").strip()
        candidate = {
            APPLICATION_ID: row[APPLICATION_ID],
            "decision": row["decision"].strip().lower(),
            "reviewer": row["reviewer"],
            "reason": row["reason"],
            "reviewed_at": own_time or default_time,
        }
        try:
            decision = check_decision_fields(candidate)
        except LineRefused as refusal:
            problems.append(f"row {row_number} ({row[APPLICATION_ID] or 'no application id'}): {refusal}")
            continue
        case = decision[APPLICATION_ID]
        refusal = why_not(case) if why_not else None
        if refusal:
            problems.append(f"row {row_number} ({case}): {refusal}")
            continue
        if case in first_row_of:
            problems.append(f"row {row_number} ({case}): a second decision for the case decided on row {first_row_of[case]}")
            continue
        first_row_of[case] = row_number
        decisions.append({name: decision[name] for name in INBOX_FIELDS})
    if problems:
        raise ReviewCsvError(f"{path}: {len(problems)} row(s) cannot be imported, nothing was imported:\n  " + "\n  ".join(problems))
    return decisions

