"""What the landing sensor should do about the files it sees: a pure decision.

The cursor maps each landed file name to the fingerprint (size, mtime) and the
sha256 of the content last acted on. The same file dropped again does nothing;
a file whose content changed for a day already loaded asks for that day again
and is recorded as a replacement; a name that is not a valid landing name is
rejected with a reason. A file modified in the last few seconds may still be
being written (copied or transferred in place rather than renamed into the
folder when complete): it is left for a later tick, so a day is not decided
on half a file and then again on the whole (keel.settling).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from keel.landing import InvalidLandingName, parse_landing_name
from keel.settling import SETTLE_SECONDS, still_being_written

# How many file names a tick's skip reason lists before it counts the rest.
_NAMES_SHOWN = 3


@dataclass(frozen=True)
class SeenFile:
    source: str
    day: dt.date
    name: str
    sha256: str
    replaces: str | None = None  # sha256 of the content it replaced


@dataclass
class LandingPlan:
    new_files: list[SeenFile] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (relative path, reason)
    settling: list[str] = field(default_factory=list)  # relative paths modified too recently to read
    cursor: dict[str, list] = field(default_factory=dict)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def plan_landing(
    files: list[tuple[str, Path]],
    cursor: dict[str, list],
    latest_day: dt.date | None = None,
    hash_file: Callable[[Path], str] = file_sha256,
    now: float | None = None,
    earliest_day: dt.date | None = None,
) -> LandingPlan:
    """Decide, for (source folder, path) pairs, which days to (re)load and which files to reject.

    A day outside `earliest_day`..`latest_day` (Dagster's partitions) is
    rejected: a run requested for it would fail the whole tick, and every
    tick after it. `now` (seconds since the epoch, as file times are) turns
    on the settling wait; without it every file is taken as complete.
    """
    plan = LandingPlan(cursor=dict(cursor))
    for folder_source, path in sorted(files, key=lambda item: item[1].name):
        if path.name.startswith("."):
            continue  # a file still being written (see landing_zone.write_atomically)
        key = f"{folder_source}/{path.name}"
        try:
            source, day, _fmt = parse_landing_name(path.name)
            if source != folder_source:
                raise InvalidLandingName(f"{path.name}: a {source} file in the {folder_source} folder")
            if latest_day is not None and day > latest_day:
                raise InvalidLandingName(f"{path.name}: date {day} is in the future (latest valid day {latest_day})")
            if earliest_day is not None and day < earliest_day:
                raise InvalidLandingName(f"{path.name}: date {day} is before the first day keel decides ({earliest_day})")
        except InvalidLandingName as reason:
            plan.rejected.append((key, str(reason)))
            plan.cursor.pop(key, None)
            continue
        stat = path.stat()
        if still_being_written(stat.st_mtime, now):
            plan.settling.append(key)  # not in the cursor: the next tick looks again
            continue
        fingerprint = [stat.st_size, stat.st_mtime_ns]
        previous = cursor.get(key)
        if previous and previous[:2] == fingerprint:
            continue  # untouched since last tick: no need to read it
        sha256 = hash_file(path)
        plan.cursor[key] = [*fingerprint, sha256]
        if previous and previous[2] == sha256:
            continue  # same content dropped again
        plan.new_files.append(SeenFile(source, day, path.name, sha256, replaces=previous[2] if previous else None))
    return plan


def needing_a_run_of_their_own(files: list[SeenFile]) -> tuple[list[SeenFile], list[SeenFile]]:
    """(files that each start a run, outcomes files that go in with their day's applications run).

    The daily job takes the day's outcomes file along with its applications,
    so a day whose two files arrive together gets one run, not a second one
    ingesting the same outcomes.
    """
    application_days = {f.day for f in files if f.source == "applications"}

    def rides_along(f: SeenFile) -> bool:
        return f.source == "outcomes" and f.day in application_days

    return [f for f in files if not rides_along(f)], [f for f in files if rides_along(f)]


def skip_reason(plan: LandingPlan, watched: int, loaded_before: list[SeenFile]) -> str:
    """Why a tick that starts no run did nothing, for the sensor's tick history in the UI.

    `watched`: the files in the landing folders; `loaded_before`: new files a
    run has already taken in (the command line's `keel run`, or a run before
    the sensor's cursor knew them). An operator asking why their file
    started nothing reads here whether it is still settling, was rejected,
    was already loaded, or is not new.
    """
    parts = []
    if plan.settling:
        parts.append(f"waiting for {_names(plan.settling)} to settle (modified in the last {SETTLE_SECONDS:.0f} s)")
    if plan.rejected:
        parts.append(f"moved {_names([key for key, _ in plan.rejected])} to landing/rejected, each with its reason beside it")
    if loaded_before:
        parts.append(f"{_names([f'{f.source}/{f.name}' for f in loaded_before])} already loaded by an earlier run")
    if not parts:
        parts.append(f"no new or changed file among the {watched} in landing/applications and landing/outcomes")
    return "; ".join(parts)


def _names(keys: list[str]) -> str:
    shown = ", ".join(keys[:_NAMES_SHOWN])
    more = len(keys) - _NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown
