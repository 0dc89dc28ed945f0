"""The names of the checks a row can fail, and what each expects, in words a person reads.

Quarantine records and blocking messages use these names, so that a report can
count rows by reason across days and sources. The expectations are written
from the contract, e.g. "a whole number between 18 and 100".
"""

from __future__ import annotations

from keel.contracts.contract import Contract, ColumnSpec

# Row-level checks (the row is quarantined).
NOT_NULL = "not_null"
TYPE = "type"
RANGE = "range"
ALLOWED_VALUES = "allowed_values"
PATTERN = "pattern"
# File-level checks (every row of the file is held back: the file is blocked).
MISSING_REQUIRED_COLUMN = "missing_required_column"
AMBIGUOUS_COLUMN = "ambiguous_column"
INCOMPATIBLE_TYPE = "incompatible_type"

TYPE_IN_WORDS = {"string": "text", "integer": "a whole number", "float": "a number", "boolean": "true or false (or yes/no)"}


def type_in_words(spec: ColumnSpec) -> str:
    if spec.type == "date":
        shown = spec.date_format.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")
        return f"a date as {shown}"
    return TYPE_IN_WORDS[spec.type]


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def expectation(spec: ColumnSpec, check: str) -> str:
    """What `check` expects of a value in column `spec`, as the end of 'expected ...'."""
    if check == NOT_NULL:
        return f"{type_in_words(spec)} (the column may not be empty)"
    if check == TYPE:
        return type_in_words(spec)
    if check == RANGE:
        if spec.min is not None and spec.max is not None:
            return f"{type_in_words(spec)} between {_number(spec.min)} and {_number(spec.max)}"
        if spec.min is not None:
            return f"{type_in_words(spec)} of at least {_number(spec.min)}"
        return f"{type_in_words(spec)} of at most {_number(spec.max)}"
    if check == ALLOWED_VALUES:
        return f"one of {', '.join(spec.categories or ())}"
    if check == PATTERN:
        return f"a value matching {spec.pattern}"
    raise ValueError(f"no expectation is written for check {check!r}")


def action(contract: Contract, check: str) -> str:
    """What a person can do about a row that failed `check`."""
    if check == NOT_NULL:
        return "Fill the value in at the source and resend the file."
    if check == ALLOWED_VALUES:
        return f"Correct the value at the source, or add the category to contract {contract.name} if it is new and valid."
    return "Correct the value at the source and resend the file."
