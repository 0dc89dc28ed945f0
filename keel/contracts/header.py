"""Matching a file's columns to the contract's: renames, new columns, missing columns.

Sources rename columns (`loan_term` for `time`), change their case, add
columns nobody asked for, and drop columns. A known rename (an alias in the
contract) is applied and reported; a new column is reported and kept out of
the pipeline until the contract names it; a missing required column, or two
columns that both claim to be the same one, block the file, because no row of
it can be trusted to mean what the contract says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from keel.contracts.checks import AMBIGUOUS_COLUMN, MISSING_REQUIRED_COLUMN
from keel.contracts.contract import Contract, normalize_column_name


@dataclass(frozen=True)
class HeaderProblem:
    check: str  # MISSING_REQUIRED_COLUMN or AMBIGUOUS_COLUMN
    column: str
    message: str


@dataclass
class HeaderMatch:
    source_of: dict[str, str] = field(default_factory=dict)  # contract column -> file column
    renamed: dict[str, str] = field(default_factory=dict)  # file column -> contract column, when they differ
    added: list[str] = field(default_factory=list)  # file columns the contract does not name
    absent_optional: list[str] = field(default_factory=list)  # optional contract columns the file lacks
    problems: list[HeaderProblem] = field(default_factory=list)  # blocking


def match_header(file_columns: list[str], contract: Contract, source_file: str) -> HeaderMatch:
    lookup = {normalize_column_name(name): spec.name for spec in contract.columns for name in spec.names}
    claims: dict[str, list[str]] = {}
    match = HeaderMatch()
    for column in file_columns:
        canonical = lookup.get(normalize_column_name(column))
        if canonical is None:
            match.added.append(column)
        else:
            claims.setdefault(canonical, []).append(column)
    found = ", ".join(map(str, file_columns)) or "none"
    for spec in contract.columns:
        claimants = claims.get(spec.name, [])
        if len(claimants) > 1:
            match.problems.append(
                HeaderProblem(
                    AMBIGUOUS_COLUMN,
                    spec.name,
                    f"{source_file}: columns {', '.join(repr(c) for c in claimants)} all claim to be {spec.name!r} "
                    f"(expected exactly one column named {' or '.join(spec.names)}; found both). The file is blocked: "
                    "ask the source to send one of them, or change the contract's aliases.",
                )
            )
        elif claimants:
            match.source_of[spec.name] = claimants[0]
            if claimants[0] != spec.name:
                match.renamed[claimants[0]] = spec.name
        elif spec.required:
            match.problems.append(
                HeaderProblem(
                    MISSING_REQUIRED_COLUMN,
                    spec.name,
                    f"{source_file}: required column {spec.name!r} is missing (expected a column named "
                    f"{' or '.join(spec.names)}; found columns {found}). The file is blocked: none of its rows is "
                    f"loaded until the source resends it with the column, or contract {contract.name} makes the column optional.",
                )
            )
        else:
            match.absent_optional.append(spec.name)
    return match
