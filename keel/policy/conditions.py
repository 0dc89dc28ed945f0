"""Declarative conditions the business writes in a policy, evaluated on a whole frame at once.

A hard rule or a scorecard line says *when* it applies as data, not code, so
that the risk team can change a limit by editing YAML and an auditor can read
exactly what fired:

    {column: income, op: is_null}
    {column: loan_to_price, op: ">", value: 1.5}
    {column: job, op: in, value: [partime, others]}
    {any: [{column: price, op: is_null}, {column: price, op: "<=", value: 0}]}

Comparisons never fire on a missing value (a missing income is not "below
100"); say `is_null` when missing is what matters. Every condition returns a
boolean numpy array for the whole frame, so a million rows cost a few
vectorized operations, not a Python loop.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable, Union

import numpy as np
import pandas as pd

from keel.policy.errors import PolicyApplicationError, PolicyFieldError

ORDERING_OPS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
EQUALITY_OPS = ("==", "!=")
MEMBERSHIP_OPS = ("in", "not_in")
NULL_OPS = ("is_null", "not_null")
OPS: tuple[str, ...] = tuple(ORDERING_OPS) + EQUALITY_OPS + MEMBERSHIP_OPS + NULL_OPS


def _column(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        raise PolicyApplicationError(
            f"the policy reads column {column!r}, which the frame does not have (it has {sorted(map(str, frame.columns))})"
        )
    return frame[column]


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    series = _column(frame, column)
    if not (pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)):
        raise PolicyApplicationError(f"the policy compares column {column!r} with a number, but it holds {series.dtype} values")
    return series.to_numpy(dtype="float64", na_value=np.nan)


@dataclass(frozen=True)
class Comparison:
    """One column tested against a value (or for being missing)."""

    column: str
    op: str
    value: Any = None

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        if self.op in NULL_OPS:
            missing = _column(frame, self.column).isna().to_numpy(dtype=bool)
            return missing if self.op == "is_null" else ~missing
        if self.op in ORDERING_OPS:
            values = _numbers(frame, self.column)
            with np.errstate(invalid="ignore"):
                return ORDERING_OPS[self.op](values, float(self.value))  # NaN compares False: missing never fires
        series = _column(frame, self.column)
        present = series.notna().to_numpy(dtype=bool)
        if self.op in MEMBERSHIP_OPS:
            members = series.isin(list(self.value)).to_numpy(dtype=bool)
            return members if self.op == "in" else present & ~members
        if isinstance(self.value, (int, float)) and not isinstance(self.value, bool):
            equal = _numbers(frame, self.column) == float(self.value)
        else:
            equal = series.isin([self.value]).to_numpy(dtype=bool)
        return equal if self.op == "==" else present & ~equal

    def describe(self) -> str:
        if self.op in NULL_OPS:
            return f"{self.column} {'is missing' if self.op == 'is_null' else 'is present'}"
        if self.op in MEMBERSHIP_OPS:
            return f"{self.column} {'in' if self.op == 'in' else 'not in'} {list(self.value)}"
        return f"{self.column} {self.op} {self.value}"


@dataclass(frozen=True)
class AllOf:
    """Fires when every inner condition fires."""

    conditions: tuple["Condition", ...]

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        return np.logical_and.reduce([c.mask(frame) for c in self.conditions])

    def describe(self) -> str:
        return "(" + " and ".join(c.describe() for c in self.conditions) + ")"


@dataclass(frozen=True)
class AnyOf:
    """Fires when at least one inner condition fires."""

    conditions: tuple["Condition", ...]

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        return np.logical_or.reduce([c.mask(frame) for c in self.conditions])

    def describe(self) -> str:
        return "(" + " or ".join(c.describe() for c in self.conditions) + ")"


Condition = Union[Comparison, AllOf, AnyOf]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str) or _is_number(value)


def parse_condition(raw: Any, key: str) -> Condition:
    """Build a condition from its YAML form; `key` is the key path used in error messages."""
    if not isinstance(raw, dict):
        raise PolicyFieldError(key, "a condition mapping such as {column: income, op: is_null}", raw)
    for combinator, kind in (("all", AllOf), ("any", AnyOf)):
        if combinator in raw:
            if set(raw) != {combinator}:
                raise PolicyFieldError(key, f"only the key {combinator!r} next to a list of conditions", sorted(raw))
            inner = raw[combinator]
            if not isinstance(inner, list) or not inner:
                raise PolicyFieldError(f"{key}.{combinator}", "a non-empty list of conditions", inner)
            return kind(tuple(parse_condition(c, f"{key}.{combinator}[{i}]") for i, c in enumerate(inner)))

    allowed = {"column", "op", "value"}
    if set(raw) - allowed:
        raise PolicyFieldError(key, f"only the keys {sorted(allowed)} (or 'all' / 'any')", sorted(raw))
    column, op = raw.get("column"), raw.get("op")
    if not isinstance(column, str) or not column:
        raise PolicyFieldError(f"{key}.column", "a column name", column)
    if op not in OPS:
        raise PolicyFieldError(f"{key}.op", f"one of {list(OPS)}", op)
    value = raw.get("value")
    if op in NULL_OPS:
        if "value" in raw:
            raise PolicyFieldError(f"{key}.value", f"no value for op {op}", value)
    elif op in ORDERING_OPS:
        if not _is_number(value):
            raise PolicyFieldError(f"{key}.value", f"a finite number for op {op!r}", value)
    elif op in MEMBERSHIP_OPS:
        if not isinstance(value, list) or not value or not all(_is_scalar(v) for v in value):
            raise PolicyFieldError(f"{key}.value", f"a non-empty list of strings or numbers for op {op}", value)
        value = tuple(value)
    elif not _is_scalar(value):
        raise PolicyFieldError(f"{key}.value", f"a string or number for op {op!r}", value)
    return Comparison(column=column, op=op, value=value)
