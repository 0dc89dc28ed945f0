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

A large file is judged a chunk of rows at a time (ContractChunks): what only
the whole file can decide (the header, whether a column changed type, which
copy of a repeated key is kept) is settled first over the whole file, cheaply;
every other check is about one row, so each chunk's result holds exactly that
chunk's rows, and the chunks' results together are the whole file's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from keel.contracts.checks import INCOMPATIBLE_TYPE, TYPE, type_in_words
from keel.contracts.contract import Contract
from keel.contracts.duplicates import DuplicateRows, find_duplicates
from keel.contracts.header import HeaderMatch, match_header
from keel.contracts.parsing import PANDAS_DTYPES, ParsedColumn, parse_column
from keel.contracts.quarantine import blocked_records, landing_problem_records, value_failure_records
from keel.contracts.result import ContractResult, count_rows, merge_results
from keel.contracts.row_hash import raw_row_hashes
from keel.contracts.schema import schema_failures
from keel.landing.row_problems import PROBLEM_CHECK, PROBLEM_COLUMN, PROBLEM_COLUMNS, PROBLEM_REASON, PROBLEM_VALUE, ROW_NUMBER

_EXAMPLES_SHOWN = 3
# Whether a column changed type is usually settled by its first rows: one value that parses is enough.
_TYPE_PROBE_ROWS = 1_000


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
    return merge_results(list(ContractChunks(frame, contract, source_file, source_sha256, timings=timings).results()))


@dataclass(frozen=True)
class _Repeats:
    """Which rows of the whole file are dropped as duplicates, and their records (file positions, ascending)."""

    dropped: np.ndarray
    records: pd.DataFrame


class ContractChunks:
    """One file's rows judged against its contract a chunk of `rows_per_chunk` rows at a time.

    The file-wide verdicts are settled on construction: `blocking_errors`
    (a header problem or a column in which no value parses) is known before
    any chunk is judged, so that a caller streaming accepted rows into the
    warehouse knows whether to write any. results() then yields one
    ContractResult per chunk, in row order, each balanced on its own rows;
    merge_results of them equals apply_contract on the whole frame.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        contract: Contract,
        source_file: str,
        source_sha256: str,
        rows_per_chunk: int | None = None,
        timings: dict[str, float] | None = None,
    ):
        self.frame, self.contract = frame, contract
        self.source_file, self.source_sha256 = source_file, source_sha256
        self.rows_per_chunk = max(1, rows_per_chunk or len(frame) or 1)
        self.clock = _Clock(timings)
        self.row_numbers = _row_numbers(frame)
        self.header = match_header([c for c in frame.columns if c not in PROBLEM_COLUMNS], contract, source_file)
        self.clock.lap("header")
        self.damaged = np.zeros(len(frame), dtype=bool)
        self.damaged[_landing_problems(frame)["position"].to_numpy()] = True
        self.problems: list[tuple[str, str, str]] = [(p.check, p.column, p.message) for p in self.header.problems]
        if not self.problems:
            self.problems = self._type_changes()
            self.clock.lap("parse")
        self.repeats = None if self.problems else self._repeats()
        self.clock.lap("duplicates")

    @property
    def blocking_errors(self) -> list[str]:
        return [message for _, _, message in self.problems]

    @property
    def blocked(self) -> bool:
        return bool(self.problems)

    def results(self) -> Iterator[ContractResult]:
        size = len(self.frame)
        for start in range(0, max(size, 1), self.rows_per_chunk):
            yield self._judge(start, min(start + self.rows_per_chunk, size))

    # --- what only the whole file can decide ------------------------------------------------

    def _raw_column(self, name: str, start: int = 0, end: int | None = None) -> pd.Series:
        source = self.header.source_of.get(name)
        end = len(self.frame) if end is None else end
        if source is None:
            return pd.Series([None] * (end - start), dtype="str")
        return self.frame[source].iloc[start:end].reset_index(drop=True)

    def _type_changes(self) -> list[tuple[str, str, str]]:
        """A column with values of which none parses: the source changed its type (checked over the whole file)."""
        size = len(self.frame)
        edges = [0, *range(min(_TYPE_PROBE_ROWS, size), size, self.rows_per_chunk), size]
        changes = []
        for spec in self.contract.columns:
            if spec.name not in self.header.source_of:
                continue
            seen_values = False
            for start, end in zip(edges, edges[1:]):
                parsed = parse_column(self._raw_column(spec.name, start, end), spec, self.contract.null_values)
                present = parsed.present & ~self.damaged[start:end]
                seen_values |= bool(present.any())
                if (present & ~parsed.unparseable).any():
                    break
            else:
                if seen_values:
                    raw = self._raw_column(spec.name)
                    column = parse_column(raw, spec, self.contract.null_values)
                    changes.append((INCOMPATIBLE_TYPE, spec.name, _type_change_message(self.contract, spec.name, column, raw, self.damaged, self.source_file)))
        return changes

    def _repeats(self) -> _Repeats:
        """Rows dropped as repeats of a kept row's key, decided over the whole file by the contract's rule.

        Only rows that pass the contract compete for a key, and passing is a
        matter of the row alone: so only rows whose key repeats somewhere in
        the file (usually none) are judged here, and the rule picks among those
        that pass.
        """
        contract, rule = self.contract, self.contract.duplicates
        none = _Repeats(np.array([], dtype="int64"), _empty_duplicates(contract))
        if len(self.frame) == 0:
            return none
        keys = parse_column(self._raw_column(contract.key), contract.column(contract.key), contract.null_values).values
        if len(pc.unique(pa.array(keys.array))) == len(keys):
            return none  # the usual day: every key once (Arrow's hash is the fastest way to know)
        suspects = np.flatnonzero(keys.duplicated(keep=False).to_numpy())
        judged = self._judge_rows(self.frame.iloc[suspects], self.damaged[suspects])
        order_by = parse_column(self._raw_column(rule.by), contract.column(rule.by), contract.null_values).values if rule.by else None
        repeated = find_duplicates(keys, order_by, rule, suspects[judged.passed])
        if len(repeated.dropped) == 0:
            return none
        hash_at = pd.Series(judged.hashes.array, index=suspects)
        records = _duplicate_records(
            contract,
            keys.iloc[repeated.dropped].reset_index(drop=True),
            repeated,
            self.row_numbers,
            hash_at.loc[repeated.dropped].to_numpy(dtype=object),
            hash_at.loc[repeated.kept_for_dropped].to_numpy(dtype=object),
            self.source_file,
            self.source_sha256,
        )
        return _Repeats(repeated.dropped, records)

    # --- each chunk's rows --------------------------------------------------------------------

    def _judge_rows(self, rows: pd.DataFrame, damaged: np.ndarray) -> "_JudgedRows":
        raw = _received_values(rows, self.contract, self.header)
        hashes = raw_row_hashes(raw)
        self.clock.lap("row_hashes")
        parsed = {spec.name: parse_column(raw[spec.name], spec, self.contract.null_values) for spec in self.contract.columns}
        typed = pd.DataFrame({name: column.values for name, column in parsed.items()})
        self.clock.lap("parse")
        failures = _value_failures(self.contract, typed, parsed, damaged)
        passed = ~damaged
        passed[failures["position"].to_numpy()] = False
        return _JudgedRows(raw, hashes, typed, failures, passed)

    def _judge(self, start: int, end: int) -> ContractResult:
        contract, source_file, source_sha256 = self.contract, self.source_file, self.source_sha256
        rows = self.frame.iloc[start:end]
        row_numbers = self.row_numbers[start:end]

        def result(accepted, quarantine, duplicates, new_categories=None) -> ContractResult:
            return ContractResult(
                contract_name=contract.name,
                contract_version=contract.version,
                contract_sha256=contract.sha256,
                source_file=source_file,
                source_sha256=source_sha256,
                accepted=accepted,
                quarantine=quarantine,
                duplicates=duplicates,
                added_columns=list(self.header.added),
                renamed_columns=dict(self.header.renamed),
                blocking_errors=self.blocking_errors,
                new_categories=new_categories or {},
                counts=count_rows(accepted, quarantine, duplicates, len(rows)),
            )

        if self.problems:
            raw = _received_values(rows, contract, self.header)
            hashes = raw_row_hashes(raw)
            quarantine = pd.concat(
                [blocked_records(contract.key, check, column, message, raw, row_numbers, hashes, source_file, source_sha256) for check, column, message in self.problems],
                ignore_index=True,
            ).sort_values("row_number", kind="stable", ignore_index=True)
            return result(_empty_accepted(contract), quarantine, _empty_duplicates(contract))

        damaged = self.damaged[start:end].copy()
        judged = self._judge_rows(rows, damaged)
        quarantine = pd.concat(
            [
                landing_problem_records(contract.key, _landing_problems(rows), judged.raw, row_numbers, judged.hashes, source_file, source_sha256),
                value_failure_records(contract, judged.failures, judged.raw, row_numbers, judged.hashes, source_file, source_sha256),
            ],
            ignore_index=True,
        ).sort_values("row_number", kind="stable", ignore_index=True)
        self.clock.lap("validate")

        in_chunk = (self.repeats.dropped >= start) & (self.repeats.dropped < end)
        keep = judged.passed.copy()
        keep[self.repeats.dropped[in_chunk] - start] = False
        typed = judged.typed
        accepted = _with_provenance(typed if keep.all() else typed[keep], row_numbers[keep], judged.hashes[keep], source_file, source_sha256)
        duplicates = self.repeats.records[in_chunk].reset_index(drop=True) if in_chunk.any() else _empty_duplicates(contract)
        judged_chunk = result(accepted, quarantine, duplicates, new_categories=_new_categories(contract, accepted))
        self.clock.lap("duplicates")
        return judged_chunk


@dataclass(frozen=True)
class _JudgedRows:
    raw: pd.DataFrame  # the received values under the contract's names
    hashes: pd.Series
    typed: pd.DataFrame
    failures: pd.DataFrame  # (position, column, check) of value failures
    passed: np.ndarray  # bool per row: read in full and no value failure


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


def _duplicate_records(
    contract: Contract,
    dropped_keys: pd.Series,
    repeated: DuplicateRows,
    row_numbers: np.ndarray,
    dropped_hashes: np.ndarray,
    kept_hashes: np.ndarray,
    source_file: str,
    source_sha256: str,
) -> pd.DataFrame:
    count = len(repeated.dropped)
    return pd.DataFrame(
        {
            "source_file": pd.Series(np.full(count, source_file, dtype=object), dtype="str"),
            "source_sha256": pd.Series(np.full(count, source_sha256, dtype=object), dtype="str"),
            "row_number": pd.Series(row_numbers[repeated.dropped], dtype="Int64"),
            contract.key: dropped_keys,
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
