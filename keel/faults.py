"""Faulty landing files on request: the ways real sources break, for tests, demos and drills.

`write_faulty_file(clean, directory, date, kind)` writes the day's applications
file (CSV) from clean landing rows with one fault injected. The same inputs
always give the same bytes, so a drill can be replayed and its outcome
compared. Rows are counted from 1 after the header, as in quarantine records.

| fault                   | what is written                                        | outcome                                    | the message names                                            |
|-------------------------|--------------------------------------------------------|--------------------------------------------|--------------------------------------------------------------|
| renamed_column          | `time` sent as `loan_term` (a known alias)             | accepted; renamed_columns {loan_term: time}| -                                                            |
| added_column            | a new column `channel`                                 | accepted; added_columns [channel], dropped | (schema-drift warning: the column)                           |
| missing_required_column | column `income` left out                               | blocked: every row quarantined             | file, column income, the names expected, the columns found   |
| type_change             | `amount` sent as text like "800 EUR" in every row      | blocked: every row quarantined             | file, column amount, "a whole number", values found          |
| unparseable_values      | age "abc" in row 2, income "n/a!" in row 4             | rows 2 and 4 quarantined (check type)      | file, row, column, "a whole number"/"a number", the value    |
| duplicate_rows          | rows 1 and 3 sent again at the end, row 2 again with   | the 3 copies are duplicates pointing at    | rule "keep first by row order", kept_row_number              |
|                         | another amount                                         | rows 1, 3 and 2                            |                                                              |
| required_nulls          | application_id empty in row 2, age empty in row 4      | rows 2 and 4 quarantined (check not_null)  | file, row, column, "may not be empty", found nothing         |
| out_of_range            | age 7 in row 1, amount -100 in row 3, age 150 and      | rows 1, 3, 5 quarantined, four records     | file, row, column, "between 18 and 100", the value           |
|                         | time 0 in row 5                                        | (row 5 fails twice)                        |                                                              |
| unknown_category        | home "castle" in row 2, records "maybe" in row 4       | rows 2 and 4 quarantined (allowed_values)  | file, row, column, the allowed values, the value             |
| empty_file              | 0 bytes                                                | blocked: LandingFileError empty_file       | file, "0 bytes"                                              |
| header_only             | the header line and nothing else                       | blocked: LandingFileError header_only      | file, the header's columns, "no data rows"                   |
| truncated_file          | the file cut half-way through its last row             | complete rows accepted, the cut row        | file, row, fields found of fields expected, "was cut"        |
|                         |                                                        | quarantined (truncated_row); file problem  |                                                              |
|                         |                                                        | truncated_file                             |                                                              |
| wrong_delimiter         | semicolon-separated                                    | blocked: LandingFileError wrong_delimiter  | file, the one-column header, "semicolon", "expected ','"     |
| non_utf8_bytes          | row 2's home written in Latin-1 ("propri\\xE9t\\xE9")  | row 2 quarantined (not_utf8), others kept  | file, row, column home, the byte and its offset              |

Blocked means: nothing is accepted, the blocking errors are set (for a
LandingFileError, the file never reaches the contract), and the counts still
balance (received = quarantined for a blocked contract, 0 rows for a file
that yields none).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from keel.fault_kinds import FAULT_KINDS
from keel.landing_zone import frame_to_bytes, landing_file_name, parse_date, write_atomically

_FEWEST_ROWS = 6  # the faults touch rows 1 to 5


def write_faulty_file(clean: pd.DataFrame, directory: Path, date: str, kind: str) -> Path:
    """Write applications_<date>.csv into `directory` from `clean` landing rows, with fault `kind`."""
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
    if len(clean) < _FEWEST_ROWS:
        raise ValueError(f"fault {kind}: needs at least {_FEWEST_ROWS} clean rows to inject into, found {len(clean)}")
    day = parse_date(date)
    path = Path(directory) / landing_file_name("applications", day, "csv")
    return write_atomically(path, faulty_bytes(clean.reset_index(drop=True), kind))


def faulty_bytes(clean: pd.DataFrame, kind: str) -> bytes:
    """The bytes of the faulty file (see the table above)."""
    rows = clean.copy()
    if kind in _FRAME_FAULTS:
        return frame_to_bytes(_FRAME_FAULTS[kind](rows), "csv")
    return _BYTE_FAULTS[kind](rows)


def _set(rows: pd.DataFrame, row: int, column: str, value) -> pd.DataFrame:
    """A copy with data row `row` (from 1) of `column` set to `value`, which may be any text."""
    # Object columns take any value and are written to CSV exactly as the typed ones were.
    changed = rows.astype("object")
    changed.loc[row - 1, column] = value
    return changed


def _renamed_column(rows):
    return rows.rename(columns={"time": "loan_term"})


def _added_column(rows):
    channels = ["web", "branch", "phone"]
    rows.insert(2, "channel", [channels[i % len(channels)] for i in range(len(rows))])
    return rows


def _missing_required_column(rows):
    return rows.drop(columns=["income"])


def _type_change(rows):
    rows["amount"] = [f"{int(a)} EUR" for a in rows["amount"]]
    return rows


def _unparseable_values(rows):
    changed = _set(rows, 2, "age", "abc")
    changed.loc[3, "income"] = "n/a!"
    return changed


def _duplicate_rows(rows):
    again = rows.iloc[[0, 2, 1]].copy()
    again.iloc[2, again.columns.get_loc("amount")] = int(rows["amount"].iloc[1]) + 100
    return pd.concat([rows, again], ignore_index=True)


def _required_nulls(rows):
    changed = _set(rows, 2, "application_id", None)
    changed.loc[3, "age"] = None
    return changed


def _out_of_range(rows):
    changed = _set(rows, 1, "age", "7")
    changed.loc[2, "amount"] = "-100"
    changed.loc[4, "age"] = "150"
    changed.loc[4, "time"] = "0"
    return changed


def _unknown_category(rows):
    changed = _set(rows, 2, "home", "castle")
    changed.loc[3, "records"] = "maybe"
    return changed


_FRAME_FAULTS = {
    "renamed_column": _renamed_column,
    "added_column": _added_column,
    "missing_required_column": _missing_required_column,
    "type_change": _type_change,
    "unparseable_values": _unparseable_values,
    "duplicate_rows": _duplicate_rows,
    "required_nulls": _required_nulls,
    "out_of_range": _out_of_range,
    "unknown_category": _unknown_category,
}


def _empty_file(rows):
    return b""


def _header_only(rows):
    return frame_to_bytes(rows.iloc[0:0], "csv")


def _truncated_file(rows):
    data = frame_to_bytes(rows, "csv")
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    last_line = data[last_start:].rstrip(b"\n")
    return data[: last_start + len(last_line) // 2]


def _wrong_delimiter(rows):
    return rows.to_csv(index=False, sep=";", lineterminator="\n").encode("utf-8")


def _non_utf8_bytes(rows):
    changed = _set(rows, 2, "home", "propriété")
    lines = changed.to_csv(index=False, lineterminator="\n").split("\n")
    # Line 0 is the header, so data row 2 is line 2: one value from a Latin-1 system.
    return b"\n".join(line.encode("latin-1" if i == 2 else "utf-8") for i, line in enumerate(lines))


_BYTE_FAULTS = {
    "empty_file": _empty_file,
    "header_only": _header_only,
    "truncated_file": _truncated_file,
    "wrong_delimiter": _wrong_delimiter,
    "non_utf8_bytes": _non_utf8_bytes,
}
