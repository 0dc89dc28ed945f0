"""The decision ledger: an append-only record of every decision, review and outcome, hash-chained.

Rows are appended in batches (one batch per day and pipeline step that adds
to it). Each batch carries the sha256 of its rows in a canonical form and a
digest chained to the batch before it, so altering, removing or reordering
any recorded row breaks the chain from that batch on; `verify_chain` names
the first day where it breaks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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


def constant_column(value: object, rows: int) -> pd.Categorical:
    """`value` on each of `rows` rows, stored once (run ids and versions repeat on every row of a batch)."""
    if value is None:
        return pd.Categorical.from_codes(np.full(rows, -1, dtype=np.int8), categories=pd.Index([], dtype="object"))
    return pd.Categorical.from_codes(np.zeros(rows, dtype=np.int8), categories=pd.Index([value], dtype="object"))


def canonical_array(column: pd.Series) -> pa.Array:
    """canonical_texts of `column` as an Arrow string array without nulls (missing cells are "").

    A categorical column comes back dictionary-encoded: each category's text is built once.
    """
    kind = column.dtype
    if isinstance(kind, pd.CategoricalDtype):
        # Missing cells (code -1) point at an extra "" entry after the categories.
        dictionary = pa.concat_arrays([canonical_array(pd.Series(kind.categories, dtype=kind.categories.dtype)), pa.array([""])])
        codes = column.cat.codes.to_numpy().astype(np.int32)
        codes[codes < 0] = len(kind.categories)
        return pa.DictionaryArray.from_arrays(pa.array(codes), dictionary)
    if pd.api.types.is_integer_dtype(kind) and not isinstance(kind, pd.api.extensions.ExtensionDtype):
        return pc.cast(pa.array(column.to_numpy()), pa.string())
    if pd.api.types.is_float_dtype(kind) and not isinstance(kind, pd.api.extensions.ExtensionDtype):
        return _float_array(column.to_numpy(dtype="float64"))
    if kind == object or isinstance(kind, pd.StringDtype):
        try:  # text and missing cells only: converted in Arrow without a Python call per cell
            return pc.fill_null(pa.array(column, type=pa.string(), from_pandas=True), "")
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            pass  # numbers or other objects among the text: each cell through _canonical_cell
    return pa.array(canonical_texts(column), type=pa.string())


# Where Arrow writes a float as repr(round(v, 10)) does. Both write the
# shortest digits that read back as the same double; Arrow also writes them
# positionally for non-integral values from 1e-4 (repr's own threshold) until
# it switches to an exponent, which it marks with "e". round(v, 10) leaves a
# value of at most 10 decimals unchanged while doubles are closer together
# than 1e-10 (below 2**18).
_SAME_FLOAT_TEXT_FROM, _SAME_FLOAT_TEXT_BELOW, _MAX_DECIMALS = 1e-4, 2.0**18, 10


def _float_array(values: np.ndarray) -> pa.Array:
    """_canonical_cell's text of each float ("" for NaN) as Arrow strings: Arrow's text where it is the same, Python's elsewhere.

    A million-row day's scores took ~1 s through repr one value at a time;
    scores are probabilities of at most 10 decimals, all in Arrow's range.
    Columns a decision row lacks (its review, its outcome) are all NaN.
    """
    texts = pc.cast(pa.array(values, type=pa.float64()), pa.string())
    missing = np.isnan(values)
    if missing.any():
        texts = pc.if_else(pa.array(missing), "", texts)
    left = _left_to_python(values, texts, missing)
    if not left.any():
        return texts
    python_texts = pa.array([_canonical_cell(value) for value in values[left].tolist()], type=pa.string())
    return pc.replace_with_mask(texts, pa.array(left), python_texts)


def _left_to_python(values: np.ndarray, texts: pa.Array, missing: np.ndarray) -> np.ndarray:
    """Which values need Python's text: not NaN, and Arrow's is not _canonical_cell's (integral, exponent, out of range, over 10 decimals)."""
    magnitude = np.abs(values)
    point = pc.find_substring(texts, ".").to_numpy(zero_copy_only=False)
    decimals = pc.binary_length(texts).to_numpy(zero_copy_only=False) - point - 1
    arrow_writes_it = (
        (magnitude >= _SAME_FLOAT_TEXT_FROM)
        & (magnitude < _SAME_FLOAT_TEXT_BELOW)
        & (point >= 0)
        & (decimals <= _MAX_DECIMALS)
        & ~pc.match_substring(texts, "e").to_numpy(zero_copy_only=False)
    )
    return ~(arrow_writes_it | missing)


def canonical_text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The ledger columns of `frame`, in order, each cell as its canonical text (Arrow-backed strings)."""
    ordered = frame.reindex(columns=list(LEDGER_COLUMNS))
    table = pa.table({c: canonical_array(ordered[c]) for c in LEDGER_COLUMNS})
    text = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    text.index = ordered.index
    return text


def canonical_rows(frame: pd.DataFrame) -> list[str]:
    """Each row as one stable line of text: the same row always gives the same bytes.

    A line is the JSON array of the row's canonical cells, exactly as
    json.dumps(cells, ensure_ascii=False, separators=(",", ":")) writes it.
    """
    if frame.empty:
        return []
    ordered = frame.reindex(columns=list(LEDGER_COLUMNS))
    return _lines(pa.table({c: canonical_array(ordered[c]) for c in LEDGER_COLUMNS}), "").to_pylist()


def _lines(texts: pa.Table, end: str) -> pa.Array:
    """The canonical line of each row of the canonical `texts`, followed by `end`, built a column at a time in Arrow.

    Per-row json.dumps, or per-cell Python, was most of the ledger step on a
    million-row day; Arrow's string kernels do the same in a fraction of it.
    Every cell is a JSON string, so the quotes between cells go in the
    separator and those at the ends on the first and last cells: the line is
    written in one pass over the row's texts, not one per column.
    """
    cells = [_json_string_contents(texts.column(c).combine_chunks()) for c in LEDGER_COLUMNS]
    cells[0] = pc.binary_join_element_wise('["', cells[0], "")
    cells[-1] = pc.binary_join_element_wise(cells[-1], '"]' + end, "")
    lines = pc.binary_join_element_wise(*cells, '","')
    # Every column constant (a one-row batch): the join gives one scalar for the table's rows.
    return pa.array([lines.as_py()] * texts.num_rows, pa.string()) if isinstance(lines, pa.Scalar) else lines


# What json.dumps(..., ensure_ascii=False) escapes in a string, and how (its encode_basestring).
_JSON_ESCAPES: tuple[tuple[str, str], ...] = (
    ("\\", "\\\\"),  # first, so the backslashes added below are not escaped again
    ('"', '\\"'),
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\t", "\\t"),
    ("\b", "\\b"),
    ("\f", "\\f"),
    *((chr(code), f"\\u{code:04x}") for code in range(0x20) if chr(code) not in "\n\r\t\b\f"),
)
_ESCAPED_BYTE = np.zeros(256, dtype=bool)
_ESCAPED_BYTE[[*range(0x20), ord('"'), ord("\\")]] = True
# Hashed this many rows at a time: a million-row batch is ~0.5 GB of text.
HASH_CHUNK_ROWS = 200_000


def _json_string_contents(texts: pa.Array) -> pa.Array | pa.Scalar:
    """Each text as it stands between the quotes of a JSON string literal (what json.dumps writes with ensure_ascii=False).

    A dictionary column (run ids, versions: one text on every row) is escaped
    once per distinct text; one holding a single text comes back as a scalar,
    which Arrow's join spreads over the rows without copying it a million times.
    """
    if not pa.types.is_dictionary(texts.type):
        return _escaped(texts)
    escaped = _escaped(texts.dictionary)
    used = pc.unique(texts.indices)
    if len(used) == 1:
        return escaped[used[0].as_py()]
    return pc.take(escaped, texts.indices)


def _escaped(texts: pa.Array) -> pa.Array:
    data = np.frombuffer(_string_bytes(texts), dtype=np.uint8)
    # Ids, hashes, dates and versions hold none of the characters JSON escapes: three vectorized compares tell.
    if not ((data < 0x20).any() or (data == ord('"')).any() or (data == ord("\\")).any()):
        return texts
    encoded = pc.dictionary_encode(texts)
    # Reason codes are JSON lists of a few kinds, repeated on every row: each distinct text is escaped once.
    if len(encoded.dictionary) * 2 < len(texts):
        return pc.take(_escaped(encoded.dictionary), encoded.indices)
    present = _special_characters(data)
    # Usually only the quotes of a JSON list: one pass per character found, not per escape.
    for raw, escaped in _JSON_ESCAPES:
        if raw in present:
            texts = pc.replace_substring(texts, raw, escaped)
    return texts


def _special_characters(data: np.ndarray) -> set[str]:
    """The characters JSON escapes (control characters, quote, backslash) among the UTF-8 bytes `data`."""
    # In UTF-8 these bytes never occur inside a multi-byte character, so a scan of the raw bytes finds them.
    found = data[_ESCAPED_BYTE[data]]
    return {chr(byte) for byte in np.unique(found)} if len(found) else set()


def _string_bytes(array: pa.Array) -> memoryview:
    """The UTF-8 bytes of all the strings of `array`, back to back (Arrow stores them so)."""
    _validity, offsets, data = array.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[array.offset : array.offset + len(array) + 1]
    return memoryview(data)[int(bounds[0]) : int(bounds[-1])]


def canonical_chunks(frame: pd.DataFrame, chunk_rows: int = HASH_CHUNK_ROWS) -> Iterator[tuple[pa.Table, memoryview]]:
    """The rows of `frame` in ledger order, a chunk at a time: (each cell's canonical text, the chunk's lines as bytes).

    The bytes of all chunks, in order, are the batch's canonical text: each
    row's line followed by a newline. Chunks bound the memory a large day needs.
    """
    ordered = frame.sort_values(["event_type", "application_id"], kind="stable") if len(frame) else frame
    yield from _chunks_in_order(ordered, chunk_rows)


def canonical_chunks_in_order(frames: Iterable[pd.DataFrame], chunk_rows: int = HASH_CHUNK_ROWS) -> Iterator[tuple[pa.Table, memoryview]]:
    """canonical_chunks of one event type's rows arriving a frame at a time, already in ledger order.

    Nothing holds the whole batch: a ten-million-row day is read, turned into
    text and hashed a frame at a time. The bytes are those canonical_chunks
    gives for all the frames stacked; rows out of application_id order raise
    rather than hash differently.
    """
    last_id = None
    for number, frame in enumerate(frames, start=1):
        if not len(frame):
            continue
        ids = frame["application_id"]
        if not ids.is_monotonic_increasing or (last_id is not None and ids.iloc[0] < last_id):
            raise ValueError(f"ledger rows must arrive in application_id order; frame {number} does not follow on")
        if frame["event_type"].nunique(dropna=False) != 1:
            raise ValueError("a batch holds one event type")
        last_id = ids.iloc[-1]
        yield from _chunks_in_order(frame, chunk_rows)


def _chunks_in_order(ordered: pd.DataFrame, chunk_rows: int) -> Iterator[tuple[pa.Table, memoryview]]:
    ordered = ordered.reindex(columns=list(LEDGER_COLUMNS))
    for start in range(0, len(ordered), chunk_rows):
        chunk = ordered.iloc[start : start + chunk_rows]
        texts = pa.table({c: canonical_array(chunk[c]) for c in LEDGER_COLUMNS})
        yield texts, _string_bytes(_lines(texts, "\n"))


def rows_sha256(frame: pd.DataFrame) -> str:
    """sha256 of the canonical lines of `frame` in ledger order, each line ended by a newline."""
    digest = hashlib.sha256()
    for _texts, lines in canonical_chunks(frame):
        digest.update(lines)
    return digest.hexdigest()


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


def next_batch(rows: pd.DataFrame | None, ledger_day: str, last: Batch | None, rows_digest: str | None = None, row_count: int | None = None) -> Batch:
    """The batch after `last` for `rows` (or, for rows hashed as they streamed by, their digest and count)."""
    seq = 1 if last is None else last.batch_seq + 1
    previous = GENESIS_DIGEST if last is None else last.digest
    rows_digest = rows_digest or rows_sha256(rows)
    row_count = len(rows) if row_count is None else row_count
    return Batch(seq, ledger_day, row_count, rows_digest, previous, chain_digest(previous, ledger_day, seq, rows_digest, row_count))


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    batches_checked: int
    first_broken_day: str | None = None
    first_broken_batch: int | None = None
    reason: str | None = None


def _batch_problems(batch, batch_rows: pd.DataFrame, previous: str | None) -> list[str]:
    """What is wrong with one batch given its rows; `previous` is the digest it must link to, None when unknown."""
    found_rows = rows_sha256(batch_rows)
    problems = []
    if len(batch_rows) != batch.row_count:
        problems.append(f"{batch.row_count} rows recorded, {len(batch_rows)} found")
    if found_rows != batch.rows_sha256:
        problems.append(f"rows hash {found_rows[:12]} differs from recorded {batch.rows_sha256[:12]}")
    if previous is not None and batch.previous_digest != previous:
        problems.append("chain link to the previous batch does not match")
    expected = chain_digest(batch.previous_digest if previous is None else previous, batch.ledger_day, batch.batch_seq, found_rows, len(batch_rows))
    if expected != batch.digest and not problems:
        problems.append("batch digest does not match its contents")
    return problems


def _rows_by_batch(rows: pd.DataFrame) -> dict:
    return {seq: group for seq, group in rows.groupby("batch_seq")} if len(rows) else {}


def verify_chain(batches: pd.DataFrame, rows: pd.DataFrame) -> ChainReport:
    """Recompute every batch's digest from its rows and the batch before it."""
    grouped = _rows_by_batch(rows)
    return verify_batches(batches, lambda seq: grouped.get(seq, rows.iloc[0:0]))


def verify_batches(
    batches: pd.DataFrame, rows_of: Callable[[int], pd.DataFrame], progress: Callable[[int, int], None] = lambda _done, _all: None
) -> ChainReport:
    """`verify_chain` with each batch's rows fetched when it is checked (`rows_of(batch_seq)`), one batch in memory at a time.

    `progress` is told (batches checked, batches) before each batch.
    """
    previous = GENESIS_DIGEST
    ordered = batches.sort_values("batch_seq")
    for checked, batch in enumerate(ordered.itertuples(index=False)):
        progress(checked, len(ordered))
        problems = _batch_problems(batch, rows_of(int(batch.batch_seq)), previous)
        if problems:
            return ChainReport(False, int(batch.batch_seq), str(batch.ledger_day), int(batch.batch_seq), "; ".join(problems))
        previous = batch.digest
    return ChainReport(True, len(ordered))


def verify_excerpt(batches: pd.DataFrame, rows: pd.DataFrame) -> list[str]:
    """Every problem in an excerpt of the ledger (some days' batches, as an evidence bundle carries them).

    An excerpt lacks the batches of other days, so a batch's link is checked only
    against the batch just before it when that one is in the excerpt too; its
    rows, count and digest are always recomputed. Rows of a batch the excerpt
    does not list are a problem as well: nothing may ride along unchained.
    """
    problems = []
    grouped = _rows_by_batch(rows)
    digests = dict(zip(batches["batch_seq"], batches["digest"]))
    for batch in batches.sort_values("batch_seq").itertuples(index=False):
        batch_rows = grouped.get(batch.batch_seq, rows.iloc[0:0])
        for problem in _batch_problems(batch, batch_rows, digests.get(batch.batch_seq - 1)):
            problems.append(f"ledger batch {batch.batch_seq} ({batch.ledger_day}): {problem}")
    for seq in sorted(set(grouped) - set(digests)):
        problems.append(f"ledger rows of batch {seq}: no such batch in the bundle ({len(grouped[seq])} rows)")
    return problems
