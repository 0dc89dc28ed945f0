"""The reviewers' files waiting in the inbox: a listing of the folder, without pandas or DuckDB.

The review sensor lists the inbox on every tick; reading and judging the
files is keel.review.ingest's job, in a run.
"""

from __future__ import annotations

from pathlib import Path

from keel.settling import still_being_written


def inbox_files(inbox: Path, now: float | None = None) -> list[Path]:
    """Files waiting in the inbox in order of arrival (then name); partial writes are not ready.

    A dot file is being written; so, with `now`, may be a file modified in the
    last seconds (a tool appending in place: read then, the rest of its lines
    would follow the file into review/processed unread). Arrival order
    matters: a case's first decision is the one that counts, and an amendment
    follows what it amends.
    """
    if not inbox.exists():
        return []
    ready = [
        p
        for p in inbox.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix == ".jsonl" and not still_being_written(p.stat().st_mtime, now)
    ]
    return sorted(ready, key=lambda p: (p.stat().st_mtime_ns, p.name))
