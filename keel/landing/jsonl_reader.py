"""Reading a JSON Lines landing file: one JSON object per line, types as the file carries them.

A well-formed file is read by pyarrow in one vectorized pass. When that fails
(a line that is not JSON, a line cut off at the end of the file, bytes that are
not UTF-8, a column whose values change type from line to line) the file is
read again line by line so that each damaged line costs only itself: it is
kept, marked with the reason, and the other lines stand.
"""

from __future__ import annotations

import io
import json

import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json

from keel.landing.errors import TRUNCATED_FILE, UNREADABLE, LandingFileError
from keel.landing.landing_file import index_by_row_number, refuse_empty
from keel.landing.row_problems import MALFORMED_JSON, NOT_UTF8, TRUNCATED_ROW, RowProblem, mark_row_problems
from keel.landing.utf8 import BAD_BYTES_MARKER, decode_marking_bad_bytes, show_bad_bytes

UTF8_BOM = b"\xef\xbb\xbf"


def read_jsonl_landing(data: bytes, file_name: str, sha256: str) -> tuple[pd.DataFrame, str | None, str | None]:
    """(frame, file problem, problem message) of a JSON Lines file's bytes; LandingFileError if it yields no rows."""
    refuse_empty(data, file_name, sha256)
    offset = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    body = data[offset:]
    if body.endswith(b"\n") and not body.startswith(b"\n") and b"\n\n" not in body and _is_utf8(body):
        try:
            frame = pa_json.read_json(io.BytesIO(body)).to_pandas()
            return index_by_row_number(frame, range(1, len(frame) + 1)), None, None
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass  # read line by line below, to find the lines at fault
    return _read_line_by_line(body, offset, file_name, sha256, len(data))


def _is_utf8(data: bytes) -> bool:
    # pyarrow's JSON reader lets invalid UTF-8 through into its strings; check first.
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_line_by_line(body: bytes, offset: int, file_name: str, sha256: str, size: int):
    lines = body.split(b"\n")
    ends_with_newline = body.endswith(b"\n")
    if ends_with_newline:
        lines = lines[:-1]
    records: list[dict] = []
    numbers: list[int] = []
    problems: list[RowProblem] = []
    position = offset
    for number, line in enumerate(lines, start=1):
        start, position = position, position + len(line) + 1
        if not line.strip():
            continue
        text, bad_bytes = decode_marking_bad_bytes(line, base_offset=start)
        try:
            value = json.loads(text)
            error = None if isinstance(value, dict) else f"a JSON {type(value).__name__}, not an object"
        except json.JSONDecodeError as decode_error:
            value, error = None, f"not valid JSON ({decode_error.msg} at character {decode_error.pos + 1})"
        record = value if isinstance(value, dict) else {}
        numbers.append(number)
        records.append(record)
        shown = show_bad_bytes(text, bad_bytes)
        if error is not None and number == len(lines) and not ends_with_newline:
            problems.append(
                RowProblem(
                    number,
                    TRUNCATED_ROW,
                    None,
                    shown,
                    f"{file_name} line {number}: the file ends inside this line (expected a complete JSON object and a line end, "
                    f"found {error}); the file was cut. Ask the source to resend the complete file.",
                )
            )
        elif error is not None:
            problems.append(
                RowProblem(
                    number,
                    MALFORMED_JSON,
                    None,
                    shown,
                    f"{file_name} line {number}: expected one JSON object per line, found {error}. Fix the line at the source and resend the file.",
                )
            )
        elif bad_bytes:
            column = next((k for k, v in record.items() if isinstance(v, str) and BAD_BYTES_MARKER in v), None)
            problems.append(
                RowProblem(
                    number,
                    NOT_UTF8,
                    column,
                    shown,
                    f"{file_name} line {number}{f', column {column}' if column else ''}: expected UTF-8 text, found "
                    f"{bad_bytes[0].describe()} in '{shown}'; the source wrote this value in another encoding (often Latin-1). "
                    "Fix the export's encoding and resend the file.",
                )
            )
    if not records:
        raise LandingFileError(UNREADABLE, file_name, f"{file_name}: holds no JSON Lines rows ({size} bytes)", sha256, size)
    if len(problems) == len(records) and all(p.check == MALFORMED_JSON for p in problems):
        first = lines[numbers[0] - 1][:120].decode("utf-8", "replace")
        raise LandingFileError(
            UNREADABLE, file_name, f"{file_name}: none of its {len(records)} lines is a JSON object (line {numbers[0]}: {first!r}); is it JSON Lines?", sha256, size
        )
    frame = index_by_row_number(pd.DataFrame.from_records(records), numbers)
    file_problem = file_message = None
    if any(p.check == TRUNCATED_ROW for p in problems):
        file_problem = TRUNCATED_FILE
        file_message = (
            f"{file_name}: the file ends inside line {numbers[-1]}, so it was cut while being written or copied. "
            f"The {len(records) - 1} complete lines are kept and the cut line is quarantined; lines after it may never have "
            "arrived: ask the source for the complete file."
        )
    return mark_row_problems(frame, problems), file_problem, file_message
