"""Finding and writing the day files that source systems drop in the landing zone.

A day's file is named `<source>_<YYYY-MM-DD>.<csv|parquet|jsonl>` in
KEEL_HOME/landing/<source>/. Files are written to a temporary name and renamed,
so a reader never sees half a file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

SOURCES = ("applications", "outcomes")
FORMATS = ("csv", "parquet", "jsonl")
# The landing sensor moves a file it cannot take to landing/rejected, its reason beside it in `<name>.reason.txt`.
REASON_SUFFIX = ".reason.txt"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class NoLandingFile(FileNotFoundError):
    """The source has not delivered the day's file."""


class AmbiguousLandingFile(ValueError):
    """More than one file claims to be the same day of the same source."""


def days_named(days: list[str]) -> str:
    """A run's days (partition keys, in order) as a person reads them: the day, or the first to the last."""
    return days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"


def parse_date(text: str) -> dt.date:
    """A calendar date given as YYYY-MM-DD, or a ValueError saying what was wrong."""
    if not _DATE.match(text or ""):
        raise ValueError(f"date {text!r} is not in the form YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"date {text!r} is not a real calendar date ({error})") from None


def landing_file_name(source: str, day: dt.date, fmt: str = "csv") -> str:
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return f"{source}_{day.isoformat()}.{fmt}"


def expected_file_names(source: str, day: dt.date) -> str:
    """The names a source's file for `day` may have, as a person is told them: "applications_2026-01-13.csv, .parquet or .jsonl"."""
    names = [landing_file_name(source, day, FORMATS[0]), *(f".{fmt}" for fmt in FORMATS[1:])]
    return ", ".join(names[:-1]) + " or " + names[-1]


def rejected_for_day(rejected: Path, source: str, day: dt.date) -> str | None:
    """What the landing sensor said of files in `rejected` that look like `source`'s file for `day`; None if none.

    A source that changed its file's name still delivered: the person told
    that the day has not arrived is told where it went and why.
    """
    if not rejected.is_dir():
        return None
    reasons = []
    for path in sorted(rejected.iterdir()):
        if path.name.endswith(REASON_SUFFIX) or day.isoformat() not in path.name or source not in path.name.lower():
            continue
        reason_file = rejected / f"{path.name}{REASON_SUFFIX}"
        reasons.append(reason_file.read_text(encoding="utf-8", errors="replace").strip() if reason_file.is_file() else f"{path.name!r}: no reason recorded")
    if not reasons:
        return None
    return f"the landing sensor rejected {'a file' if len(reasons) == 1 else f'{len(reasons)} files'} for the day, now in {rejected}: " + "; ".join(reasons)


def find_landing_file(folder: Path, source: str, day: dt.date) -> Path | None:
    """The day's file of `source`, or None when the source has not delivered it."""
    found = [folder / landing_file_name(source, day, fmt) for fmt in FORMATS]
    present = [path for path in found if path.exists()]
    if len(present) > 1:
        names = ", ".join(p.name for p in present)
        raise AmbiguousLandingFile(f"{folder}: several files for {source} on {day}: {names}; keep one")
    return present[0] if present else None


def landed_files(folder: Path) -> dict[str, Path]:
    """Day -> its landing file in a source's folder (the newest, if a day has two); names the landing sensor would reject are left to it."""
    from keel.landing.errors import InvalidLandingName
    from keel.landing.names import parse_landing_name

    landed: dict[str, Path] = {}
    if not folder.is_dir():
        return landed
    for path in folder.iterdir():
        if path.name.startswith(".") or not path.is_file():
            continue
        try:
            _source, day, _fmt = parse_landing_name(path.name)
        except InvalidLandingName:
            continue
        earlier = landed.get(day.isoformat())
        if earlier is None or path.stat().st_mtime > earlier.stat().st_mtime:
            landed[day.isoformat()] = path
    return landed


def write_atomically(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)
    return path


def frame_to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """Serialize a landing frame deterministically: same frame, same bytes."""
    if fmt == "csv":
        return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    if fmt == "jsonl":
        return frame.to_json(orient="records", lines=True, date_format="iso").encode("utf-8")
    if fmt == "parquet":
        import io

        import pyarrow as pa
        import pyarrow.parquet as pq

        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer, compression="zstd")
        return buffer.getvalue()
    raise ValueError(f"unknown format {fmt!r}")
