"""read_landing_file: any landing file, by its extension, into a LandingFile."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa

from keel.landing.csv_reader import read_csv_landing
from keel.landing.errors import UNREADABLE, LandingFileError
from keel.landing.jsonl_reader import read_jsonl_landing
from keel.landing.landing_file import LandingFile
from keel.landing.parquet_reader import read_parquet_landing

READERS = {"csv": read_csv_landing, "parquet": read_parquet_landing, "jsonl": read_jsonl_landing}


def read_landing_file(path: Path | str) -> LandingFile:
    """Read a landing file (.csv, .parquet or .jsonl) without judging its values.

    Raises LandingFileError when the file yields no rows at all (empty, header
    only, cut Parquet footer, wrong delimiter, unreadable). A file that does not
    exist raises FileNotFoundError: a missing delivery is an outage for the
    caller to report, not a bad file.
    """
    path = Path(path)
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    fmt = path.suffix.lstrip(".").lower()
    reader = READERS.get(fmt)
    if reader is None:
        raise LandingFileError(
            UNREADABLE, path.name, f"{path.name}: unknown landing file format {path.suffix!r}; expected .csv, .parquet or .jsonl", sha256, len(data)
        )
    frame, problem, message = reader(data, path.name, sha256)
    # The parsers' scratch memory stays with Arrow's allocator unless handed back (about half the file's size).
    pa.default_memory_pool().release_unused()
    return LandingFile(path=path, format=fmt, sha256=sha256, size_bytes=len(data), frame=frame, problem=problem, problem_message=message)
