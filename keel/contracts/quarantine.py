"""Quarantine records: one per failed (row, column, check), each with a reason a person can act on.

Each record carries the row's key (the contract's key column, e.g.
application_id) as received, so a person asked about one application can
find why its row was held back; None when the row had no key to read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from keel.contracts.checks import action, expectation
from keel.contracts.contract import Contract
from keel.contracts.result import QUARANTINE_COLUMNS

_LONGEST_VALUE_SHOWN = 200


def quarantine_columns(key: str) -> tuple[str, ...]:
    """The quarantine's columns for a contract whose key column is `key`: the key after the row number."""
    at = QUARANTINE_COLUMNS.index("row_number") + 1
    return (*QUARANTINE_COLUMNS[:at], key, *QUARANTINE_COLUMNS[at:])


def empty_quarantine(key: str) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in quarantine_columns(key)})
    frame["row_number"] = frame["row_number"].astype("Int64")
    return frame


def keys_as_text(raw: pd.DataFrame, key: str, positions: np.ndarray) -> np.ndarray:
    """The key received at each position, as text without surrounding blanks; None where there was none."""
    stripped = pd.Series(values_as_text(raw, positions, np.full(len(positions), key, dtype=object)), dtype="object").str.strip()
    return stripped.where(stripped.notna() & (stripped != ""), None).to_numpy(dtype=object)


def values_as_text(raw: pd.DataFrame, positions: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """The received value at each (position, column), as text; None where nothing was received."""
    found = np.full(len(positions), None, dtype=object)
    for column in pd.unique(columns):
        where = columns == column
        if column not in raw.columns:
            continue
        values = raw[column].iloc[positions[where]]
        text = values.astype("str").to_numpy(dtype=object)
        text[values.isna().to_numpy()] = None
        found[where] = text
    return found


def describe_found(value: str | None, null_values: tuple[str, ...] = ("",)) -> str:
    if value is None or not value.strip():
        return "nothing (the value is empty)"
    if value.strip() in null_values:
        return f"'{value}', which this source writes for no value"
    return f"'{shown_value(value)}'"


def shown_value(value: str) -> str:
    """A value as a reason quotes it: whole, or its first characters and "…" when it is long."""
    return value if len(value) <= _LONGEST_VALUE_SHOWN else value[:_LONGEST_VALUE_SHOWN] + "…"


def value_failure_records(
    contract: Contract,
    failures: pd.DataFrame,
    raw: pd.DataFrame,
    row_numbers: np.ndarray,
    hashes: pd.Series,
    source_file: str,
    source_sha256: str,
) -> pd.DataFrame:
    """Records for value failures (position, column, check), the reason written from the contract."""
    if failures.empty:
        return empty_quarantine(contract.key)
    positions = failures["position"].to_numpy()
    columns = failures["column"].to_numpy(dtype=object)
    checks = failures["check"].to_numpy(dtype=object)
    found = values_as_text(raw, positions, columns)
    numbers = row_numbers[positions]
    expected = {}
    reasons = []
    # One Python step per failure, never per row: a clean file costs nothing here.
    for number, column, check, value in zip(numbers, columns, checks, found):
        key = (column, check)
        if key not in expected:
            expected[key] = (expectation(contract.column(column), check), action(contract, check))
        wanted, todo = expected[key]
        reasons.append(f"{source_file} row {number}, column {column}: expected {wanted}, found {describe_found(value, contract.null_values)}. {todo}")
    keys = keys_as_text(raw, contract.key, positions)
    return _records(source_file, source_sha256, numbers, contract.key, keys, columns, checks, found, np.array(reasons, dtype=object), hashes.iloc[positions].array)


def landing_problem_records(
    key: str, problems: pd.DataFrame, raw: pd.DataFrame, row_numbers: np.ndarray, hashes: pd.Series, source_file: str, source_sha256: str
) -> pd.DataFrame:
    """Records for rows the reader could not read in full; the reader wrote the reason."""
    if problems.empty:
        return empty_quarantine(key)
    positions = problems["position"].to_numpy()
    return _records(
        source_file,
        source_sha256,
        row_numbers[positions],
        key,
        keys_as_text(raw, key, positions),
        problems["column"].to_numpy(dtype=object),
        problems["check"].to_numpy(dtype=object),
        problems["value_found"].to_numpy(dtype=object),
        problems["reason"].to_numpy(dtype=object),
        hashes.iloc[positions].array,
    )


def blocked_records(
    key: str, check: str, column: str, message: str, raw: pd.DataFrame, row_numbers: np.ndarray, hashes: pd.Series, source_file: str, source_sha256: str
) -> pd.DataFrame:
    """Every row of a blocked file, held back under the blocking check with the blocking message."""
    count = len(row_numbers)
    positions = np.arange(count)
    found = values_as_text(raw, positions, np.full(count, column, dtype=object))
    return _records(
        source_file,
        source_sha256,
        row_numbers,
        key,
        keys_as_text(raw, key, positions),
        np.full(count, column, dtype=object),
        np.full(count, check, dtype=object),
        found,
        np.full(count, message, dtype=object),
        hashes.array,
    )


def _records(source_file, source_sha256, numbers, key, keys, columns, checks, found, reasons, hashes) -> pd.DataFrame:
    rows = pd.RangeIndex(len(numbers))
    return pd.DataFrame(
        {
            "source_file": pd.Series(source_file, index=rows, dtype="str"),
            "source_sha256": pd.Series(source_sha256, index=rows, dtype="str"),
            "row_number": pd.Series(numbers, dtype="Int64"),
            key: pd.Series(keys, dtype="str"),
            "column": pd.Series(columns, dtype="str"),
            "check": pd.Series(checks, dtype="str"),
            "value_found": pd.Series(found, dtype="str"),
            "reason": pd.Series(reasons, dtype="str"),
            "raw_row_hash": pd.Series(hashes, dtype="str"),
        }
    )
