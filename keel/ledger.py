"""The decision ledger: an append-only record of every decision, review and outcome, hash-chained.

Rows are appended in batches (one batch per day and pipeline step that adds
to it). Each batch carries the sha256 of its rows in a canonical form and a
digest chained to the batch before it, so altering, removing or reordering
any recorded row breaks the chain from that batch on; `verify_chain` names
the first day where it breaks.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

GENESIS_DIGEST = "0" * 64

# The columns that make up a ledger row, in the order they are hashed.
LEDGER_COLUMNS: tuple[str, ...] = (
    "event_type",  # decision | review | outcome
    "ledger_day",
    "application_id",
    "application_date",
    "source_file",
    "source_sha256",
    "source_row_number",
    "raw_row_hash",
    "feature_row_hash",
    "model_version",
    "policy_version",
    "contract_version",
    "code_version",
    "run_ids",
    "score",
    "reason_codes",
    "route",
    "decided_by",
    "reviewer",
    "review_reason",
    "reviewed_at",
    "final_decision",
    "repayment_status",
)


def _canonical_cell(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (float, np.floating)):
        return repr(round(float(value), 10))
    if isinstance(value, (np.integer,)):
        return str(int(value))
    return str(value)


def canonical_texts(column: pd.Series) -> list[str]:
    """The canonical text of each cell of `column` (what _canonical_cell gives), a column at a time.

    A million-row day has ~25 million cells: calling _canonical_cell on each
    was most of the ledger step. Floats, integers and text take fast paths
    that give the same strings; anything else goes through _canonical_cell.
    """
    kind = column.dtype
    if pd.api.types.is_float_dtype(kind) and not isinstance(kind, pd.api.extensions.ExtensionDtype):
        return ["" if value != value else repr(round(value, 10)) for value in column.to_numpy(dtype="float64").tolist()]
    if pd.api.types.is_integer_dtype(kind) and not isinstance(kind, pd.api.extensions.ExtensionDtype):
        return column.astype("str").tolist()
    if kind == object or isinstance(kind, pd.StringDtype):
        return [value if type(value) is str else _canonical_cell(value) for value in column.tolist()]
    return column.map(_canonical_cell).astype("object").tolist()


def canonical_text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The ledger columns of `frame`, in order, each cell as its canonical text."""
    ordered = frame.reindex(columns=list(LEDGER_COLUMNS))
    return pd.DataFrame({c: canonical_texts(ordered[c]) for c in LEDGER_COLUMNS}, index=ordered.index, dtype="object")


def canonical_rows(frame: pd.DataFrame) -> list[str]:
    """Each row as one stable line of text: the same row always gives the same bytes.

    A line is the JSON array of the row's canonical cells, exactly as
    json.dumps(cells, ensure_ascii=False, separators=(",", ":")) writes it;
    built column by column (one JSON string per cell, then joined), which is
    many times faster than a json.dumps per row on a large day.
    """
    ordered = frame.reindex(columns=list(LEDGER_COLUMNS))
    if ordered.empty:
        return []
    columns = [_json_strings(canonical_texts(ordered[c])) for c in LEDGER_COLUMNS]
    return ["[" + ",".join(cells) + "]" for cells in zip(*columns)]


_NEEDS_ESCAPING = re.compile(r'["\\\x00-\x1f]')
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def _json_strings(texts: list[str]) -> list[str]:
    """Each text as a JSON string literal (what json.dumps writes with ensure_ascii=False)."""
    # Most columns hold no quote, backslash or control character at all: one search over the column says so.
    if not _NEEDS_ESCAPING.search("".join(texts)):
        return ['"' + text + '"' for text in texts]
    return [_ENCODE(text) if _NEEDS_ESCAPING.search(text) else '"' + text + '"' for text in texts]


def rows_sha256(frame: pd.DataFrame) -> str:
    ordered = frame.sort_values(["event_type", "application_id"], kind="stable") if len(frame) else frame
    lines = canonical_rows(ordered)
    # One line per row, each ended by a newline: hashed in one call.
    return hashlib.sha256(("\n".join(lines) + "\n" if lines else "").encode("utf-8")).hexdigest()


def chain_digest(previous_digest: str, ledger_day: str, batch_seq: int, rows_digest: str, row_count: int) -> str:
    payload = f"{previous_digest}|{ledger_day}|{batch_seq}|{row_count}|{rows_digest}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Batch:
    batch_seq: int
    ledger_day: str
    row_count: int
    rows_sha256: str
    previous_digest: str
    digest: str


def next_batch(rows: pd.DataFrame, ledger_day: str, last: Batch | None, rows_digest: str | None = None) -> Batch:
    seq = 1 if last is None else last.batch_seq + 1
    previous = GENESIS_DIGEST if last is None else last.digest
    rows_digest = rows_digest or rows_sha256(rows)
    return Batch(seq, ledger_day, len(rows), rows_digest, previous, chain_digest(previous, ledger_day, seq, rows_digest, len(rows)))


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    batches_checked: int
    first_broken_day: str | None = None
    first_broken_batch: int | None = None
    reason: str | None = None


def verify_chain(batches: pd.DataFrame, rows: pd.DataFrame) -> ChainReport:
    """Recompute every batch's digest from its rows and the batch before it."""
    previous = GENESIS_DIGEST
    ordered = batches.sort_values("batch_seq")
    grouped = {seq: group for seq, group in rows.groupby("batch_seq")} if len(rows) else {}
    for batch in ordered.itertuples(index=False):
        batch_rows = grouped.get(batch.batch_seq, rows.iloc[0:0])
        found_rows = rows_sha256(batch_rows)
        problems = []
        if len(batch_rows) != batch.row_count:
            problems.append(f"{batch.row_count} rows recorded, {len(batch_rows)} found")
        if found_rows != batch.rows_sha256:
            problems.append(f"rows hash {found_rows[:12]} differs from recorded {batch.rows_sha256[:12]}")
        if batch.previous_digest != previous:
            problems.append("chain link to the previous batch does not match")
        expected = chain_digest(previous, batch.ledger_day, batch.batch_seq, found_rows, len(batch_rows))
        if expected != batch.digest and not problems:
            problems.append("batch digest does not match its contents")
        if problems:
            return ChainReport(False, int(batch.batch_seq), str(batch.ledger_day), int(batch.batch_seq), "; ".join(problems))
        previous = batch.digest
    return ChainReport(True, len(ordered))
