"""Reading a Parquet landing file, telling a cut-off file from one that is not Parquet at all.

Parquet keeps its schema and row index in a footer at the end of the file, so
a file cut while being copied has lost the part that says where the rows are:
no row can be trusted and the whole file is refused as truncated.
"""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from keel.landing.errors import HEADER_ONLY, TRUNCATED_FILE, UNREADABLE, LandingFileError
from keel.landing.landing_file import index_by_row_number, refuse_empty

PARQUET_MAGIC = b"PAR1"


def read_parquet_landing(data: bytes, file_name: str, sha256: str) -> tuple[pd.DataFrame, str | None, str | None]:
    """(frame, None, None) of a Parquet file's bytes; LandingFileError if it yields no rows."""
    refuse_empty(data, file_name, sha256)

    def refuse(kind: str, message: str) -> LandingFileError:
        return LandingFileError(kind, file_name, f"{file_name}: {message}", sha256, len(data))

    if not data.startswith(PARQUET_MAGIC):
        raise refuse(UNREADABLE, f"is not a Parquet file: it starts with {data[:8]!r}, expected {PARQUET_MAGIC!r}")
    if len(data) < 12 or not data.endswith(PARQUET_MAGIC):
        raise refuse(
            TRUNCATED_FILE,
            f"the Parquet footer is missing (the file ends with {data[-8:]!r} after {len(data)} bytes, expected {PARQUET_MAGIC!r}): "
            "the file was cut while being written or copied and no row can be read. Ask the source to resend it.",
        )
    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError) as error:
        raise refuse(UNREADABLE, f"cannot be read as Parquet: {error}") from None
    if table.num_rows == 0:
        raise refuse(HEADER_ONLY, f"has a schema ({table.num_columns} columns: {', '.join(table.column_names[:20])}) but no rows; expected at least one row")
    frame = table.to_pandas()
    return index_by_row_number(frame, range(1, len(frame) + 1)), None, None
