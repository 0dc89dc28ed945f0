"""What a contract made of one file: the rows kept, quarantined and dropped, and whether it balances."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

PROVENANCE_COLUMNS: tuple[str, ...] = ("source_file", "source_sha256", "source_row_number", "raw_row_hash")
QUARANTINE_COLUMNS: tuple[str, ...] = (
    "source_file", "source_sha256", "row_number", "column", "check", "value_found", "reason", "raw_row_hash",
)  # fmt: skip
DUPLICATE_COLUMNS_AFTER_KEY: tuple[str, ...] = ("kept_row_number", "rule", "identical_to_kept", "raw_row_hash")
COUNT_KEYS: tuple[str, ...] = ("received", "accepted", "quarantined", "duplicates")


@dataclass
class ContractResult:
    """The fate of every row of one file under one contract version.

    accepted        the contract's columns, typed, in contract order, plus
                    source_file, source_sha256, source_row_number, raw_row_hash
    quarantine      one record per failed (row, column, check): source_file,
                    source_sha256, row_number, <key> (as received, None when the
                    row had none), column, check, value_found (text as
                    received), reason (a sentence naming file, row, column, what was
                    expected and found, and what to do), raw_row_hash
    duplicates      source_file, source_sha256, row_number, <key>, kept_row_number,
                    rule, identical_to_kept, raw_row_hash
    counts          received == accepted + quarantined (distinct rows) + duplicates
    blocking_errors non-empty when the file as a whole broke the contract; then
                    nothing is accepted and every row is quarantined under the
                    blocking check, so the counts still balance and the rows can be
                    replayed once the source or the contract is fixed.
    """

    contract_name: str
    contract_version: str
    contract_sha256: str
    source_file: str
    source_sha256: str
    accepted: pd.DataFrame
    quarantine: pd.DataFrame
    duplicates: pd.DataFrame
    added_columns: list[str] = field(default_factory=list)
    renamed_columns: dict[str, str] = field(default_factory=dict)
    blocking_errors: list[str] = field(default_factory=list)
    new_categories: dict[str, dict[str, int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def blocked(self) -> bool:
        return bool(self.blocking_errors)

    @property
    def quarantined_by_check(self) -> dict[str, int]:
        """Distinct quarantined rows per check, e.g. {"range": 3, "not_null": 1}."""
        if self.quarantine.empty:
            return {}
        counts = self.quarantine.drop_duplicates(["row_number", "check"])["check"].value_counts()
        return {str(check): int(n) for check, n in sorted(counts.items())}


def merge_results(chunks: list[ContractResult]) -> ContractResult:
    """The results of one file's chunks (in row order) as the file's: rows stacked, counts and new categories added up."""
    if len(chunks) == 1:
        return chunks[0]
    first = chunks[0]
    new_categories: dict[str, dict[str, int]] = {}
    for chunk in chunks:
        for column, found in chunk.new_categories.items():
            merged = new_categories.setdefault(column, {})
            for value, n in found.items():
                merged[value] = merged.get(value, 0) + n
    return replace(
        first,
        accepted=_stack([c.accepted for c in chunks]),
        quarantine=_stack([c.quarantine for c in chunks]),
        duplicates=_stack([c.duplicates for c in chunks]),
        new_categories={column: dict(sorted(found.items())) for column, found in new_categories.items()},
        counts={key: sum(c.counts.get(key, 0) for c in chunks) for key in COUNT_KEYS},
    )


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    # Empty frames are left out: concatenating them would loosen the others' dtypes.
    filled = [f for f in frames if len(f)]
    if not filled:
        return frames[0]
    return filled[0] if len(filled) == 1 else pd.concat(filled, ignore_index=True)


def count_rows(accepted: pd.DataFrame, quarantine: pd.DataFrame, duplicates: pd.DataFrame, received: int) -> dict[str, int]:
    """Counts taken from the frames themselves, so that reconcile() checks what is really handed on."""
    return {
        "received": int(received),
        "accepted": len(accepted),
        "quarantined": int(quarantine["row_number"].nunique()),
        "duplicates": len(duplicates),
    }


def reconcile(counts: dict[str, int]) -> tuple[bool, str]:
    """(balanced, sentence): every received row is accepted, quarantined or a duplicate, exactly once."""
    missing = [k for k in COUNT_KEYS if k not in counts]
    if missing:
        return False, f"counts lack {', '.join(missing)} (found {counts})"
    received, accepted, quarantined, duplicates = (int(counts[k]) for k in COUNT_KEYS)
    accounted = accepted + quarantined + duplicates
    if min(received, accepted, quarantined, duplicates) < 0:
        return False, f"a count is negative: {counts}"
    if accounted == received:
        return True, f"received {received} = accepted {accepted} + quarantined {quarantined} + duplicates {duplicates}"
    gap = received - accounted
    what = f"{gap} row(s) unaccounted for" if gap > 0 else f"{-gap} row(s) counted twice"
    return False, (
        f"received {received} but accepted {accepted} + quarantined {quarantined} + duplicates {duplicates} = {accounted}: "
        f"{what}; downstream assets must not run on this partition"
    )
