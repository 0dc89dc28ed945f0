"""Files other systems write into keel's folders: one modified in the last SETTLE_SECONDS may still be being written.

Sources are asked to write a dot-name and rename it when complete; one that
copies or appends in place instead is read only once the file has been still
for this long, so no day or review is taken from half a file.
"""

from __future__ import annotations

SETTLE_SECONDS = 10.0


def still_being_written(modified_at: float, now: float | None) -> bool:
    """Whether a file last modified at `modified_at` (seconds since the epoch) is too fresh to read at `now`; never without `now`."""
    return now is not None and now - modified_at < SETTLE_SECONDS
