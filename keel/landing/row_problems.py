"""How a reader hands rows it could only half read to the data contract.

Some rows are damaged in the file itself: the last row of a file cut off while
being copied, a row with too few or too many fields, a line that is not JSON,
bytes that are not UTF-8. The reader keeps such a row (with whatever values it
could recover) so that nothing received is lost, and marks it in four reserved
columns; the contract quarantines marked rows with the reader's reason instead
of judging their values. The columns exist only when at least one row is
marked, and the contract never treats them as source columns.

The frame's index is the row's 1-based data row number in the file
(ROW_NUMBER): for CSV the record after the header (blank lines are not rows),
for JSON Lines the line number, for Parquet the row position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ROW_NUMBER = "source_row_number"

PROBLEM_CHECK = "_landing_problem_check"
PROBLEM_COLUMN = "_landing_problem_column"
PROBLEM_VALUE = "_landing_problem_value"
PROBLEM_REASON = "_landing_problem_reason"
PROBLEM_COLUMNS: tuple[str, ...] = (PROBLEM_CHECK, PROBLEM_COLUMN, PROBLEM_VALUE, PROBLEM_REASON)

# The checks a reader can report on a single row.
TRUNCATED_ROW = "truncated_row"
FIELD_COUNT = "field_count"
NOT_UTF8 = "not_utf8"
MALFORMED_JSON = "malformed_json"


@dataclass(frozen=True)
class RowProblem:
    row_number: int
    check: str
    column: str | None
    value_found: str | None
    reason: str


def mark_row_problems(frame: pd.DataFrame, problems: list[RowProblem]) -> pd.DataFrame:
    """`frame` (indexed by ROW_NUMBER) with the problems written into the reserved columns.

    A row keeps its first problem only: once a row is known to be damaged, a
    second reason adds nothing a person could act on.
    """
    if not problems:
        return frame
    first: dict[int, RowProblem] = {}
    for problem in problems:
        first.setdefault(problem.row_number, problem)
    marked = frame.copy()
    positions = marked.index.get_indexer(list(first))
    if (positions < 0).any():
        missing = [n for n, p in zip(first, positions) if p < 0]
        raise ValueError(f"row problems name rows the frame does not hold: {missing}")
    for column, attribute in zip(PROBLEM_COLUMNS, ("check", "column", "value_found", "reason")):
        values = np.full(len(marked), None, dtype=object)
        values[positions] = [getattr(p, attribute) for p in first.values()]
        marked[column] = pd.Series(values, index=marked.index, dtype="str")
    return marked


def row_problems(frame: pd.DataFrame) -> pd.DataFrame:
    """The marked rows of a reader's frame: row_number, check, column, value_found, reason."""
    columns = ["row_number", "check", "column", "value_found", "reason"]
    if PROBLEM_CHECK not in frame.columns:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    marked = frame[frame[PROBLEM_CHECK].notna()]
    return pd.DataFrame(
        {
            "row_number": marked.index.to_numpy(),
            "check": marked[PROBLEM_CHECK].to_numpy(),
            "column": marked[PROBLEM_COLUMN].to_numpy(),
            "value_found": marked[PROBLEM_VALUE].to_numpy(),
            "reason": marked[PROBLEM_REASON].to_numpy(),
        }
    )
