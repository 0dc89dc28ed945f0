"""Turning the values a file delivered into the contract's types, one column at a time.

CSV delivers text; JSON Lines and Parquet deliver their own types. Each column
is parsed into the contract's type (pandas nullable dtypes: str, Int64,
Float64, datetime64, boolean). A value that does not parse ("abc" for an age,
2.5 for a whole number, 2026-02-30 for a date) is a fault of its row; a column
in which no value parses at all is a change of type by the source, which the
caller turns into a blocked file.

Parsing works on the distinct values of a column (pandas.factorize) and maps
the result back, so a million-row day with a few hundred distinct ages parses
a few hundred ages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from keel.contracts.contract import ColumnSpec

PANDAS_DTYPES = {"string": "str", "integer": "Int64", "float": "Float64", "date": "datetime64[us]", "boolean": "boolean"}
_TRUE_TEXTS = {"true", "t", "yes", "y", "1"}
_FALSE_TEXTS = {"false", "f", "no", "n", "0"}
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_LARGEST_EXACT_INTEGER = 2**53


@dataclass(frozen=True)
class ParsedColumn:
    values: pd.Series  # in the contract's dtype; NA where the value was null or did not parse
    unparseable: np.ndarray  # bool per row: a value was there but is not of the type
    present: np.ndarray  # bool per row: a value was there (not null, not a null marker)


def parse_column(raw: pd.Series, spec: ColumnSpec, null_values: tuple[str, ...]) -> ParsedColumn:
    raw = raw.reset_index(drop=True)
    if spec.type in ("integer", "float") and (pd.api.types.is_integer_dtype(raw.dtype) or pd.api.types.is_float_dtype(raw.dtype)):
        return _numbers_from_numbers(raw, spec)
    if spec.type == "date" and pd.api.types.is_datetime64_any_dtype(raw.dtype):
        values = raw.dt.tz_localize(None) if getattr(raw.dt, "tz", None) is not None else raw
        present = raw.notna().to_numpy()
        return ParsedColumn(values.astype(PANDAS_DTYPES["date"]), np.zeros(len(raw), dtype=bool), present)
    if raw.dtype == object:
        # Mixed values (JSON Lines): compare them as text, so that true and 1 stay different values.
        raw = raw.astype("str")
    if spec.type == "string" and isinstance(raw.dtype, pd.StringDtype):
        return _texts_from_texts(raw, null_values)
    if spec.type in ("integer", "float") and isinstance(raw.dtype, pd.StringDtype):
        clean = _numbers_from_clean_texts(raw, spec, null_values)
        if clean is not None:
            return clean
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    texts = pd.Series(uniques).astype("str").str.strip()
    null_unique = (texts.isna() | texts.isin(null_values)).to_numpy()
    typed_unique, failed_unique = _parse_texts(texts.where(~null_unique), spec)
    failed_unique = failed_unique & ~null_unique
    typed_unique = typed_unique.where(~failed_unique)
    seen = codes >= 0
    safe_codes = np.where(seen, codes, 0)
    if len(uniques) == 0:
        unparseable = present = np.zeros(len(raw), dtype=bool)
    else:
        unparseable = seen & failed_unique[safe_codes]
        present = seen & ~null_unique[safe_codes]
    values = pd.Series(typed_unique.array.take(codes, allow_fill=True), dtype=PANDAS_DTYPES[spec.type])
    return ParsedColumn(values, unparseable, present)


def _parse_texts(texts: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, np.ndarray]:
    """(typed values, failed) for distinct, stripped texts; nulls come in as NA and do not fail."""
    if spec.type == "string":
        return texts.astype("str"), np.zeros(len(texts), dtype=bool)
    if spec.type in ("integer", "float"):
        numbers = pd.to_numeric(texts, errors="coerce").astype("float64")
        ok = np.isfinite(numbers.to_numpy())
        if spec.type == "integer":
            ok &= (np.mod(numbers.to_numpy(), 1) == 0) & (np.abs(numbers.to_numpy()) < _LARGEST_EXACT_INTEGER)
        typed = numbers.where(ok).astype(PANDAS_DTYPES[spec.type])
        return typed, ~ok & texts.notna().to_numpy()
    if spec.type == "date":
        dates = pd.to_datetime(texts, format=spec.date_format, errors="coerce")
        ok = dates.notna().to_numpy()
        if spec.date_format == "%Y-%m-%d":
            # strptime takes 2026-1-3 for 2026-01-03; the contract says YYYY-MM-DD.
            ok = ok & texts.str.match(_ISO_DATE).fillna(False).to_numpy(dtype=bool)
        return dates.where(ok).astype(PANDAS_DTYPES["date"]), ~ok & texts.notna().to_numpy()
    if spec.type == "boolean":
        lowered = texts.str.lower()
        truth = lowered.isin(_TRUE_TEXTS).to_numpy()
        falsity = lowered.isin(_FALSE_TEXTS).to_numpy()
        typed = pd.Series(pd.array(np.where(truth, True, np.where(falsity, False, None)), dtype="boolean"))
        return typed, ~(truth | falsity) & texts.notna().to_numpy()
    raise ValueError(f"column {spec.name}: unknown type {spec.type!r}")


def _texts_from_texts(raw: pd.Series, null_values: tuple[str, ...]) -> ParsedColumn:
    # Text to text needs no parsing: skip factorize, which is costly on a column of unique ids.
    stripped = raw.str.strip()
    null = (stripped.isna() | stripped.isin(list(null_values))).to_numpy(dtype=bool)
    return ParsedColumn(stripped.where(~null).astype("str"), np.zeros(len(raw), dtype=bool), ~null)


def _numbers_from_clean_texts(raw: pd.Series, spec: ColumnSpec, null_values: tuple[str, ...]) -> ParsedColumn | None:
    """Numbers from text in one Arrow cast, when every value is a clean number or a null marker; else None.

    The cast refuses the whole column at the first bad value; the caller then
    parses value by distinct value to find which rows are at fault.
    """
    try:
        texts = pa.array(raw.array)  # zero-copy for Arrow-backed text (pandas 3's str)
        nulls = pc.is_in(texts, value_set=pa.array(list(null_values), type=texts.type))
        numbers = pc.cast(pc.if_else(nulls, pa.scalar(None, texts.type), texts), pa.int64() if spec.type == "integer" else pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
        return None
    if spec.type == "float" and not pc.all(pc.is_finite(numbers)).as_py() in (True, None):
        return None
    present = pc.is_valid(numbers).to_numpy(zero_copy_only=False)
    values = pd.Series(numbers.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype()}.get), dtype=PANDAS_DTYPES[spec.type])
    return ParsedColumn(values.reset_index(drop=True), np.zeros(len(raw), dtype=bool), present)


def _numbers_from_numbers(raw: pd.Series, spec: ColumnSpec) -> ParsedColumn:
    present = raw.notna().to_numpy()
    if spec.type == "float" or pd.api.types.is_integer_dtype(raw.dtype):
        return ParsedColumn(raw.astype(PANDAS_DTYPES[spec.type]), np.zeros(len(raw), dtype=bool), present)
    numbers = raw.astype("float64").to_numpy()
    with np.errstate(invalid="ignore"):
        whole = np.isfinite(numbers) & (np.mod(numbers, 1) == 0)
    values = pd.Series(numbers).where(whole).astype("Int64")
    return ParsedColumn(values, present & ~whole, present)
