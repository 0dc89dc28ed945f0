"""Quarantine records: one per failed (row, column, check), each with a reason a person can act on."""

from __future__ import annotations

import numpy as np
import pandas as pd

from keel.contracts.checks import action, expectation
from keel.contracts.contract import Contract
from keel.contracts.result import QUARANTINE_COLUMNS

_LONGEST_VALUE_SHOWN = 200


def empty_quarantine() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="str") for c in QUARANTINE_COLUMNS})
    frame["row_number"] = frame["row_number"].astype("Int64")
    return frame


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
    shown = value if len(value) <= _LONGEST_VALUE_SHOWN else value[:_LONGEST_VALUE_SHOWN] + "…"
    return f"'{shown}'"


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
        return empty_quarantine()
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
    return _records(source_file, source_sha256, numbers, columns, checks, found, np.array(reasons, dtype=object), hashes.iloc[positions].array)


def landing_problem_records(problems: pd.DataFrame, row_numbers: np.ndarray, hashes: pd.Series, source_file: str, source_sha256: str) -> pd.DataFrame:
    """Records for rows the reader could not read in full; the reader wrote the reason."""
    if problems.empty:
        return empty_quarantine()
    positions = problems["position"].to_numpy()
    return _records(
        source_file,
        source_sha256,
        row_numbers[positions],
        problems["column"].to_numpy(dtype=object),
        problems["check"].to_numpy(dtype=object),
        problems["value_found"].to_numpy(dtype=object),
        problems["reason"].to_numpy(dtype=object),
        hashes.iloc[positions].array,
    )


def blocked_records(
    check: str, column: str, message: str, raw: pd.DataFrame, row_numbers: np.ndarray, hashes: pd.Series, source_file: str, source_sha256: str
) -> pd.DataFrame:
    """Every row of a blocked file, held back under the blocking check with the blocking message."""
    count = len(row_numbers)
    positions = np.arange(count)
    found = values_as_text(raw, positions, np.full(count, column, dtype=object))
    return _records(
        source_file,
        source_sha256,
        row_numbers,
        np.full(count, column, dtype=object),
        np.full(count, check, dtype=object),
        found,
        np.full(count, message, dtype=object),
        hashes.array,
    )


def _records(source_file, source_sha256, numbers, columns, checks, found, reasons, hashes) -> pd.DataFrame:
    rows = pd.RangeIndex(len(numbers))
    return pd.DataFrame(
        {
            "source_file": pd.Series(source_file, index=rows, dtype="str"),
            "source_sha256": pd.Series(source_sha256, index=rows, dtype="str"),
            "row_number": pd.Series(numbers, dtype="Int64"),
            "column": pd.Series(columns, dtype="str"),
            "check": pd.Series(checks, dtype="str"),
            "value_found": pd.Series(found, dtype="str"),
            "reason": pd.Series(reasons, dtype="str"),
            "raw_row_hash": pd.Series(hashes, dtype="str"),
        }
    )
