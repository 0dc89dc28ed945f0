"""apply_contract: one file's rows through its data contract, every row accounted for.

The steps, in the order a row meets them:
  1. columns: known renames applied, new columns reported and dropped, a missing
     required column (or two columns claiming one name) blocks the file;
  2. types: values parsed into the contract's types; a value that does not
     parse quarantines its row, a column where none parses blocks the file;
  3. values: the pandera schema (nulls, ranges, categories, patterns), lazily,
     so every failure of every row is reported at once;
  4. duplicates: among the rows that passed, a repeated key is dropped and
     points at the row kept under the contract's rule.
Rows the reader could not read in full arrive marked and are quarantined with
the reader's reason. A blocked file accepts nothing: each of its rows is
quarantined under the blocking check, so that the counts balance and the
partition cannot pass downstream.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from keel.contracts.checks import INCOMPATIBLE_TYPE, TYPE, type_in_words
from keel.contracts.contract import Contract
from keel.contracts.duplicates import find_duplicates
from keel.contracts.header import HeaderMatch, match_header
from keel.contracts.parsing import PANDAS_DTYPES, ParsedColumn, parse_column
from keel.contracts.quarantine import blocked_records, landing_problem_records, value_failure_records
from keel.contracts.result import ContractResult, count_rows
from keel.contracts.row_hash import raw_row_hashes
from keel.contracts.schema import schema_failures
from keel.landing.row_problems import PROBLEM_CHECK, PROBLEM_COLUMN, PROBLEM_COLUMNS, PROBLEM_REASON, PROBLEM_VALUE, ROW_NUMBER

_EXAMPLES_SHOWN = 3


def apply_contract(
    frame: pd.DataFrame, contract: Contract, source_file: str, source_sha256: str, timings: dict[str, float] | None = None
) -> ContractResult:
    """Judge every row of `frame` (as a keel.landing reader returned it) against `contract`.

    Row numbers come from the frame's index when it is the reader's
    `source_row_number`, otherwise rows are numbered 1, 2, ... in order.
    `timings`, when given, receives the seconds spent in each part
    (header, row_hashes, parse, validate: the value checks and their
    quarantine records, duplicates: with the provenance columns), for benchmarks and
    the asset's metadata.
    """
    clock = _Clock(timings)
    row_numbers = _row_numbers(frame)
    header = match_header([c for c in frame.columns if c not in PROBLEM_COLUMNS], contract, source_file)
    raw = _received_values(frame, contract, header)
    clock.lap("header")
    hashes = raw_row_hashes(raw)
    clock.lap("row_hashes")
    landing = _landing_problems(frame)

    def result(accepted, quarantine, duplicates, blocking_errors=(), new_categories=None) -> ContractResult:
        return ContractResult(
            contract_name=contract.name,
            contract_version=contract.version,
            contract_sha256=contract.sha256,
            source_file=source_file,
            source_sha256=source_sha256,
            accepted=accepted,
            quarantine=quarantine,
            duplicates=duplicates,
            added_columns=list(header.added),
            renamed_columns=dict(header.renamed),
            blocking_errors=list(blocking_errors),
            new_categories=new_categories or {},
            counts=count_rows(accepted, quarantine, duplicates, len(frame)),
        )

    def blocked(problems: list[tuple[str, str, str]]) -> ContractResult:
        quarantine = pd.concat(
            [blocked_records(check, column, message, raw, row_numbers, hashes, source_file, source_sha256) for check, column, message in problems],
            ignore_index=True,
        ).sort_values("row_number", kind="stable", ignore_index=True)
        return result(_empty_accepted(contract), quarantine, _empty_duplicates(contract), [message for _, _, message in problems])

    if header.problems:
        return blocked([(p.check, p.column, p.message) for p in header.problems])

    damaged = np.zeros(len(frame), dtype=bool)
    damaged[landing["position"].to_numpy()] = True
    parsed = {spec.name: parse_column(raw[spec.name], spec, contract.null_values) for spec in contract.columns}
    type_changes = [
        (INCOMPATIBLE_TYPE, name, _type_change_message(contract, name, column, raw[name], damaged, source_file))
        for name, column in parsed.items()
        if _no_value_parses(column, damaged)
    ]
    if type_changes:
        return blocked(type_changes)

    typed = pd.DataFrame({name: column.values for name, column in parsed.items()})
    clock.lap("parse")
    failures = _value_failures(contract, typed, parsed, damaged)
    quarantine = pd.concat(
        [
            landing_problem_records(landing, row_numbers, hashes, source_file, source_sha256),
            value_failure_records(contract, failures, raw, row_numbers, hashes, source_file, source_sha256),
        ],
        ignore_index=True,
    ).sort_values("row_number", kind="stable", ignore_index=True)
    clock.lap("validate")

    passed = ~damaged
    passed[failures["position"].to_numpy()] = False
    rule = contract.duplicates
    repeated = find_duplicates(typed[contract.key], typed[rule.by] if rule.by else None, rule, np.flatnonzero(passed))
    keep = passed.copy()
    keep[repeated.dropped] = False
    accepted = _with_provenance(typed if keep.all() else typed[keep], row_numbers[keep], hashes[keep], source_file, source_sha256)
    duplicates = _duplicate_records(contract, typed, repeated, row_numbers, hashes, source_file, source_sha256)
    clock.lap("duplicates")
    return result(accepted, quarantine, duplicates, new_categories=_new_categories(contract, accepted))


class _Clock:
    """Adds the seconds since the previous lap to `timings[name]`; does nothing without `timings`."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        if self.timings is None:
            return
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.last
        self.last = now


def _row_numbers(frame: pd.DataFrame) -> np.ndarray:
    if frame.index.name == ROW_NUMBER:
        return frame.index.to_numpy(dtype="int64")
    return np.arange(1, len(frame) + 1, dtype="int64")


def _received_values(frame: pd.DataFrame, contract: Contract, header: HeaderMatch) -> pd.DataFrame:
    """The received values under the contract's names, in contract order; an absent column is all null."""
    columns = {}
    for spec in contract.columns:
        source = header.source_of.get(spec.name)
        columns[spec.name] = frame[source].reset_index(drop=True) if source is not None else pd.Series([None] * len(frame), dtype="str")
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))


def _landing_problems(frame: pd.DataFrame) -> pd.DataFrame:
    if PROBLEM_CHECK not in frame.columns:
        return pd.DataFrame({"position": np.array([], dtype="int64"), "column": [], "check": [], "value_found": [], "reason": []})
    marked = np.flatnonzero(frame[PROBLEM_CHECK].notna().to_numpy())
    rows = frame.iloc[marked]
    return pd.DataFrame(
        {
            "position": marked,
            "column": rows[PROBLEM_COLUMN].to_numpy(dtype=object),
            "check": rows[PROBLEM_CHECK].to_numpy(dtype=object),
            "value_found": rows[PROBLEM_VALUE].to_numpy(dtype=object),
            "reason": rows[PROBLEM_REASON].to_numpy(dtype=object),
        }
    )


def _no_value_parses(column: ParsedColumn, damaged: np.ndarray) -> bool:
    present = column.present & ~damaged
    return bool(present.any()) and not bool((present & ~column.unparseable).any())


def _type_change_message(contract: Contract, name: str, column: ParsedColumn, raw: pd.Series, damaged: np.ndarray, source_file: str) -> str:
    present = column.present & ~damaged
    examples = pd.unique(raw[present].astype("str"))[:_EXAMPLES_SHOWN]
    return (
        f"{source_file}: column {name!r} should hold {type_in_words(contract.column(name))} but none of its {int(present.sum())} "
        f"values does (found {', '.join(repr(e) for e in examples)}): the source changed the column's type. The file is blocked: "
        f"none of its rows is loaded until the source resends it in the contract's type, or contract {contract.name} "
        f"v{contract.version} changes the column's type."
    )


def _value_failures(contract: Contract, typed: pd.DataFrame, parsed: dict[str, ParsedColumn], damaged: np.ndarray) -> pd.DataFrame:
    """(position, column, check) of every value failure on rows the reader read in full, in row then column order."""
    order = {name: i for i, name in enumerate(contract.column_names)}
    type_failures = pd.DataFrame(
        {
            "position": np.concatenate([np.flatnonzero(c.unparseable) for c in parsed.values()] + [np.array([], dtype="int64")]),
            "column": np.concatenate([np.full(int(c.unparseable.sum()), n, dtype=object) for n, c in parsed.items()] + [np.array([], dtype=object)]),
        }
    ).assign(check=TYPE)
    checked = schema_failures(contract, typed)
    if not type_failures.empty and not checked.empty:
        # A value that did not parse is null to the schema; its type failure already says what is wrong.
        width = len(order)
        unparsed_cells = type_failures["position"].to_numpy() * width + type_failures["column"].map(order).to_numpy()
        checked_cells = checked["position"].to_numpy() * width + checked["column"].map(order).to_numpy()
        checked = checked[~np.isin(checked_cells, unparsed_cells)]
    failures = pd.concat([type_failures, checked], ignore_index=True)
    failures = failures[~damaged[failures["position"].to_numpy(dtype="int64")]]
    failures = failures.assign(position=failures["position"].astype("int64"), _order=failures["column"].map(order))
    return failures.sort_values(["position", "_order"], kind="stable", ignore_index=True).drop(columns="_order")


def _with_provenance(typed: pd.DataFrame, numbers: np.ndarray, hashes: pd.Series, source_file: str, source_sha256: str) -> pd.DataFrame:
    accepted = typed.reset_index(drop=True)
    rows = accepted.index
    accepted["source_file"] = pd.Series(source_file, index=rows, dtype="str")
    accepted["source_sha256"] = pd.Series(source_sha256, index=rows, dtype="str")
    accepted["source_row_number"] = pd.Series(numbers, index=rows, dtype="Int64")
    accepted["raw_row_hash"] = pd.Series(hashes.array, index=rows, dtype="str")
    return accepted


def _empty_accepted(contract: Contract) -> pd.DataFrame:
    typed = pd.DataFrame({spec.name: pd.Series(dtype=PANDAS_DTYPES[spec.type]) for spec in contract.columns})
    return _with_provenance(typed, np.array([], dtype="int64"), pd.Series([], dtype="str"), "", "")


def _duplicate_records(contract, typed, repeated, row_numbers, hashes, source_file, source_sha256) -> pd.DataFrame:
    if len(repeated.dropped) == 0:
        return _empty_duplicates(contract)
    count = len(repeated.dropped)
    dropped_hashes = hashes.iloc[repeated.dropped].to_numpy(dtype=object)
    kept_hashes = hashes.iloc[repeated.kept_for_dropped].to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "source_file": pd.Series(np.full(count, source_file, dtype=object), dtype="str"),
            "source_sha256": pd.Series(np.full(count, source_sha256, dtype=object), dtype="str"),
            "row_number": pd.Series(row_numbers[repeated.dropped], dtype="Int64"),
            contract.key: typed[contract.key].iloc[repeated.dropped].reset_index(drop=True),
            "kept_row_number": pd.Series(row_numbers[repeated.kept_for_dropped], dtype="Int64"),
            "rule": pd.Series(np.full(count, contract.duplicates.describe(), dtype=object), dtype="str"),
            "identical_to_kept": pd.Series(dropped_hashes == kept_hashes, dtype="bool"),
            "raw_row_hash": pd.Series(dropped_hashes, dtype="str"),
        }
    )


def _empty_duplicates(contract: Contract) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": pd.Series(dtype="str"),
            "source_sha256": pd.Series(dtype="str"),
            "row_number": pd.Series(dtype="Int64"),
            contract.key: pd.Series(dtype="str"),
            "kept_row_number": pd.Series(dtype="Int64"),
            "rule": pd.Series(dtype="str"),
            "identical_to_kept": pd.Series(dtype="bool"),
            "raw_row_hash": pd.Series(dtype="str"),
        }
    )


def _new_categories(contract: Contract, accepted: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Values outside a `new_categories: report` column's list, with how many accepted rows hold each."""
    found = {}
    for spec in contract.columns:
        if spec.categories is None or spec.new_categories != "report":
            continue
        values = accepted[spec.name]
        unknown = values[values.notna() & ~values.isin(list(spec.categories))]
        if len(unknown):
            found[spec.name] = {str(v): int(n) for v, n in sorted(unknown.value_counts().items())}
    return found
