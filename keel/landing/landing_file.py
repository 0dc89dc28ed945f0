"""What a reader hands on: the rows of one landing file exactly as read, and what it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from keel.landing.errors import EMPTY_FILE, LandingFileError
from keel.landing.row_problems import ROW_NUMBER, row_problems


@dataclass(frozen=True, eq=False)
class LandingFile:
    """One day's file from a source, read without judging it.

    `frame` holds every row the file delivered, indexed by its 1-based data row
    number (index name `source_row_number`), with the columns as the source
    named them. CSV values are all text, so that a bad value reaches the data
    contract as a bad value of one row instead of failing the whole read;
    Parquet and JSON Lines keep the types the file carries. Rows the reader
    could only half read are marked (see keel.landing.row_problems).
    `problem` is "truncated_file" when the last row was cut off: the complete
    rows are kept, the cut row is marked, and `problem_message` says so.
    """

    path: Path
    format: str
    sha256: str
    size_bytes: int
    frame: pd.DataFrame
    problem: str | None = None
    problem_message: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def row_count(self) -> int:
        return len(self.frame)

    @property
    def row_numbers(self) -> pd.Index:
        return self.frame.index

    @property
    def problem_rows(self) -> pd.DataFrame:
        """Rows the reader marked as damaged: row_number, check, column, value_found, reason."""
        return row_problems(self.frame)


def index_by_row_number(frame: pd.DataFrame, row_numbers) -> pd.DataFrame:
    frame.index = pd.Index(row_numbers, name=ROW_NUMBER, dtype="int64")
    return frame


def refuse_empty(data: bytes, file_name: str, sha256: str) -> None:
    """LandingFileError(empty_file) for a file with no bytes, or nothing but whitespace."""
    if not data:
        raise LandingFileError(EMPTY_FILE, file_name, f"{file_name}: the file is empty (0 bytes); expected at least a header and one row", sha256, 0)
    if not data.lstrip(b"\xef\xbb\xbf").strip():
        raise LandingFileError(
            EMPTY_FILE, file_name, f"{file_name}: the file holds only {len(data)} bytes of whitespace; expected at least a header and one row", sha256, len(data)
        )
