"""A stable fingerprint of each row as received: sha256 of its raw values, computed in DuckDB.

The hash is what an auditor uses to prove that a decision was made on exactly
the row the source sent. It is defined so that it can be recomputed anywhere:

    sha256_hex( utf8( v1 + U+001F + v2 + U+001F + ... ) )

over the contract's columns in contract order (so a new column or a known
rename does not change it), each value as received rendered as text (CSV text
as is; Parquet and JSON values as DuckDB casts them to VARCHAR), a null or an
absent column written as U+0000. It is a real sha256, computed by DuckDB's
vectorized sha256 over the whole frame in one query: hashing a million rows in
a Python loop would cost more than validating them.
"""

from __future__ import annotations

import duckdb
import pandas as pd

VALUE_SEPARATOR = "\x1f"
NULL_VALUE = "\x00"


def raw_row_hashes(raw: pd.DataFrame) -> pd.Series:
    """One sha256 hex digest per row of `raw` (the received values under the contract's names), as a str Series."""
    if len(raw) == 0:
        return pd.Series([], dtype="str")
    columns = {}
    for position, name in enumerate(raw.columns):
        values = raw[name]
        if values.dtype == object:
            values = values.astype("str")  # mixed JSON values: their text
        columns[f"c{position}"] = values.reset_index(drop=True)
    frame = pd.DataFrame(columns)
    rendered = ", ".join(f"coalesce(cast(c{i} as varchar), chr(0))" for i in range(len(columns)))
    with duckdb.connect() as con:
        con.register("received_rows", frame)
        # A plain projection keeps the frame's row order (DuckDB preserves insertion order).
        relation = con.sql(f"select sha256(concat_ws(chr(31), {rendered})) as raw_row_hash from received_rows")
        # DuckDB 2 names it to_arrow_table; 1.x arrow.
        table = (getattr(relation, "to_arrow_table", None) or relation.arrow)()
    # One contiguous array: taking rows from DuckDB's many small batches would be slow.
    return pd.Series(table.column("raw_row_hash").combine_chunks().to_pandas(), dtype="str")
