"""A deterministic share of automatic decisions that a person checks anyway.

Quality assurance needs a sample that nobody can steer and everybody can
reproduce: an auditor re-running the policy next year must find the same
cases sampled. Each application id, joined to the policy's salt, is hashed
with sha256; the first 8 bytes of the digest, read as an integer, give a
number in [0, 1) that is the same on every machine, process and Python
version (Python's own hash() is randomized per process, so it is never used).
A case is sampled when its number is below the policy's rate, so raising the
rate only ever adds cases to the sample. Changing the salt draws a fresh sample.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

# The salt and the id are joined with a separator that cannot occur in either.
SEPARATOR = "\x1f"

# DuckDB's vectorized sha256 over the joined texts (UTF-8, as hashlib would
# see them), its first 8 bytes (16 hex digits) read as a big-endian integer.
# A Python loop over hashlib took ~1 s for a million ids, the largest part
# of a day's policy.
_FIRST_8_BYTES_SQL = "select ('0x' || left(sha256(? || id), 16))::ubigint as top from ids"


def _texts(application_ids: Iterable[str] | pd.Series) -> pa.Array:
    if isinstance(application_ids, pd.Series):
        ids = pa.Array.from_pandas(application_ids.astype("str"))
    else:
        ids = pa.array([str(i) for i in application_ids], type=pa.string())
    if ids.null_count:
        raise ValueError(f"QA sampling needs an application id for every case; {ids.null_count} have none")
    return ids


def qa_uniform(application_ids: Iterable[str] | pd.Series, salt: str) -> np.ndarray:
    """A number in [0, 1) per application id, a pure function of (id, salt)."""
    return _uniform(_texts(application_ids), salt)


def qa_sampled(application_ids: Iterable[str] | pd.Series, salt: str, rate: float) -> np.ndarray:
    """True for the ids in the QA sample at this rate."""
    ids = _texts(application_ids)
    if rate <= 0:
        return np.zeros(len(ids), dtype=bool)
    return _uniform(ids, salt) < rate


def _uniform(ids: pa.Array, salt: str) -> np.ndarray:
    if len(ids) == 0:
        return np.zeros(0, dtype="float64")
    with duckdb.connect() as con:
        con.register("ids", pa.table({"id": ids}))
        # A plain projection keeps the rows' order (DuckDB preserves insertion order).
        top = con.sql(_FIRST_8_BYTES_SQL, params=[salt + SEPARATOR]).to_arrow_table().column("top").to_numpy()
    top_bits = top.astype(np.uint64) >> np.uint64(11)  # keep 53 bits: exact in a float64
    return top_bits.astype("float64") * 2.0**-53
