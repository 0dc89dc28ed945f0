"""Reading a CSV landing file as text, keeping every row it delivered.

All values are read as text: whether "abc" is a valid age is the data
contract's question, asked per row. What only the reader can see is handled
here: a file with no rows (empty, header only), a file written with another
delimiter, a last row cut off mid-way (kept and marked; the complete rows
stand), rows with too few or too many fields (kept and marked), and bytes that
are not UTF-8 (the row holding them is marked with the byte and its offset).

Parsing is done by pyarrow's CSV reader, which is vectorized and reports rows
with the wrong number of fields instead of guessing at them.
"""

from __future__ import annotations

import codecs
import csv
import io
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from keel.landing.errors import HEADER_ONLY, TRUNCATED_FILE, UNREADABLE, WRONG_DELIMITER, LandingFileError
from keel.landing.landing_file import index_by_row_number, refuse_empty
from keel.landing.row_problems import FIELD_COUNT, NOT_UTF8, TRUNCATED_ROW, RowProblem, mark_row_problems
from keel.landing.utf8 import BAD_BYTES_MARKER, BadBytes, decode_marking_bad_bytes, show_bad_bytes

UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}
_NOT_BLANK = re.compile(rb"\S")
# A large file is checked for UTF-8 a slice at a time: decoding it whole would hold a copy of it as text.
_UTF8_CHECK_BYTES = 1 << 24


def read_csv_landing(data: bytes, file_name: str, sha256: str) -> tuple[pd.DataFrame, str | None, str | None]:
    """(frame, file problem, problem message) of a CSV file's bytes; LandingFileError if it yields no rows."""
    refuse_empty(data, file_name, sha256)
    offset = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    body = data[offset:]
    if _is_utf8(body):
        bad_bytes: list[BadBytes] = []
    else:
        text, bad_bytes = decode_marking_bad_bytes(body, base_offset=offset)
        body = text.encode("utf-8")

    def refuse(kind: str, message: str) -> LandingFileError:
        return LandingFileError(kind, file_name, f"{file_name}: {message}", sha256, len(data))

    header_end = body.find(b"\n")
    header = _fields(body if header_end < 0 else body[:header_end])
    if len(header) == 1:
        for delimiter, called in _OTHER_DELIMITERS.items():
            if delimiter in header[0]:
                raise refuse(
                    WRONG_DELIMITER,
                    f"the header is one column {header[0][:120]!r} holding {called} characters: the file looks "
                    f"{called}-separated; expected comma-separated values. Ask the source to export with ',' and resend.",
                )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise refuse(UNREADABLE, f"the header names {', '.join(repr(n) for n in repeated)} more than once; each column must be named once")
    if header_end < 0 or _NOT_BLANK.search(body, header_end + 1) is None:
        raise refuse(
            HEADER_ONLY,
            f"has a header ({len(header)} columns: {', '.join(header[:20])}) but no data rows ({len(data)} bytes); "
            "expected at least one row. If the source really had nothing that day, it should say so; otherwise resend.",
        )

    problems: list[RowProblem] = []
    cut_line, cut_fields = _cut_last_line(body, len(header))
    if cut_line is not None:
        body = body[: len(body) - len(cut_line)]
    frame, invalid = _parse(body, header, refuse)
    extra_rows: list[tuple[int, list[str]]] = []
    for number, line, fields in invalid:
        problems.append(_field_count_problem(file_name, number, line, fields, header))
        extra_rows.append((number, fields))
    total = len(frame) + len(invalid)
    valid_numbers = np.arange(1, total + 1)
    if extra_rows:
        valid_numbers = np.setdiff1d(valid_numbers, [n for n, _ in extra_rows])
    frame = index_by_row_number(frame, valid_numbers)
    file_problem = file_message = None
    if cut_line is not None:
        number = total + 1
        problems.append(_truncated_problem(file_name, number, cut_line, cut_fields, header))
        extra_rows.append((number, cut_fields))
        file_problem = TRUNCATED_FILE
        file_message = (
            f"{file_name}: the file ends mid-row: row {number} has {len(cut_fields)} of {len(header)} fields and no line end, "
            f"so the file was cut while being written or copied. The {total} complete rows are kept and the cut row is "
            "quarantined; rows after it may never have arrived: ask the source for the complete file."
        )
    if extra_rows:
        frame = pd.concat([frame, _rows_frame(extra_rows, header)]).sort_index(kind="stable")
    if bad_bytes:
        frame, encoding_problems = _mark_bad_bytes(frame, bad_bytes, file_name, {p.row_number for p in problems})
        problems.extend(encoding_problems)
    return mark_row_problems(frame, problems), file_problem, file_message


def _is_utf8(data: bytes) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), _UTF8_CHECK_BYTES):
            decoder.decode(view[start : start + _UTF8_CHECK_BYTES])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _fields(line: bytes) -> list[str]:
    text = line.decode("utf-8", "replace").rstrip("\r")
    return next(csv.reader([text]), [])


def _cut_last_line(body: bytes, width: int) -> tuple[bytes | None, list[str]]:
    """The last line when it was cut off: no line end and too few fields, or an unclosed quote.

    A last line with every field and no line end is taken as complete: many
    writers omit the final newline, and the contract still checks the values.
    """
    if body.endswith(b"\n"):
        return None, []
    last = body[body.rfind(b"\n") + 1 :]
    fields = _fields(last)
    if last.count(b'"') % 2 == 1 or len(fields) < width:
        return last, fields
    return None, []


def _parse(body: bytes, header: list[str], refuse) -> tuple[pd.DataFrame, list[tuple[int, str, list[str]]]]:
    invalid: list[tuple[int | None, str, list[str]]] = []

    def keep_aside(row) -> str:
        # pyarrow numbers records from 1 with the header as record 1: data row = number - 1.
        invalid.append((None if row.number is None else row.number - 1, row.text, _fields(row.text.encode("utf-8"))))
        return "skip"

    def read(use_threads: bool):
        return pa_csv.read_csv(
            io.BytesIO(body),
            read_options=pa_csv.ReadOptions(use_threads=use_threads, block_size=1 << 24),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=keep_aside),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header}, strings_can_be_null=False, quoted_strings_can_be_null=False
            ),
        )

    try:
        table = read(use_threads=True)
        if any(number is None for number, _, _ in invalid):
            # Parallel parsing cannot tell which record a bad row is; a single thread can.
            invalid.clear()
            table = read(use_threads=False)
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise refuse(UNREADABLE, f"cannot be parsed as CSV: {error}") from None
    frame = table.to_pandas()
    if list(frame.columns) != header:
        raise refuse(UNREADABLE, f"the CSV parser read columns {list(frame.columns)} but the header line is {header}")
    return frame, invalid


def _rows_frame(rows: list[tuple[int, list[str]]], header: list[str]) -> pd.DataFrame:
    padded = [(fields + [None] * len(header))[: len(header)] for _, fields in rows]
    frame = pd.DataFrame(padded, columns=header, dtype="str")
    return index_by_row_number(frame, [n for n, _ in rows])


def _field_count_problem(file_name: str, number: int, line: str, fields: list[str], header: list[str]) -> RowProblem:
    if len(fields) < len(header):
        column, what = header[len(fields)], f"only {len(fields)} fields"
    else:
        column, what = f"(field {len(header) + 1})", f"{len(fields)} fields"
    return RowProblem(
        number,
        FIELD_COUNT,
        column,
        line,
        f"{file_name} row {number}: expected {len(header)} fields as in the header, found {what}; a value is missing or "
        "holds an unquoted comma. Fix the row at the source and resend the file.",
    )


def _truncated_problem(file_name: str, number: int, line: bytes, fields: list[str], header: list[str]) -> RowProblem:
    column = header[len(fields) - 1] if 0 < len(fields) <= len(header) else header[0]
    return RowProblem(
        number,
        TRUNCATED_ROW,
        column,
        line.decode("utf-8", "replace"),
        f"{file_name} row {number}: the file ends inside this row (expected {len(header)} fields and a line end, found "
        f"{len(fields)} fields ending at {column!r}); the file was cut. Ask the source to resend the complete file.",
    )


def _mark_bad_bytes(frame: pd.DataFrame, bad_bytes: list[BadBytes], file_name: str, already_marked: set[int]):
    """Find the cells that held undecodable bytes, in file order, and pair them with the bytes."""
    cells: list[tuple[int, int, str, str]] = []  # (row number, column position, column, text)
    for position, column in enumerate(frame.columns):
        values = frame[column]
        held = values.str.contains(BAD_BYTES_MARKER, regex=False).fillna(False).to_numpy(dtype=bool)
        for number, text in zip(frame.index[held], values[held]):
            cells.append((int(number), position, column, text))
        if held.any():
            frame[column] = values.str.replace(BAD_BYTES_MARKER, "\ufffd", regex=False)
    cells.sort()
    runs = iter(bad_bytes)
    by_row: dict[int, list[tuple[str, str, list[BadBytes]]]] = {}
    for number, _position, column, text in cells:
        own = [next(runs, BadBytes(-1, b"")) for _ in range(text.count(BAD_BYTES_MARKER))]
        by_row.setdefault(number, []).append((column, show_bad_bytes(text, own), own))
    problems = []
    for number, found in by_row.items():
        if number in already_marked:
            continue
        column, shown, own = found[0]
        others = f" (also in {', '.join(c for c, _, _ in found[1:])})" if len(found) > 1 else ""
        problems.append(
            RowProblem(
                number,
                NOT_UTF8,
                column,
                shown,
                f"{file_name} row {number}, column {column}: expected UTF-8 text, found {own[0].describe()} in '{shown}'{others}; "
                "the source wrote this value in another encoding (often Latin-1). Fix the export's encoding and resend the file.",
            )
        )
    return frame, problems
