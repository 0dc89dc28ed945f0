"""A folder checked against its manifest of sha256s: an evidence bundle (`keel audit verify-bundle`) or an unpacked backup (`keel restore`).

The manifest comes from outside, so a name in it must stay inside the
folder; every file it names must be there with its sha256, and no other
file may be.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from keel.landing_watch import file_sha256

# What is wrong with one file; each caller words it for its own folder.
OUTSIDE = "outside"  # a name reaching out of the folder
MISSING = "missing"  # named, not there
ALTERED = "altered"  # there, another sha256
UNLISTED = "unlisted"  # there, not named


def manifest_problems(
    folder: Path, listed: Mapping[str, str], manifest_name: str, on_file: Callable[[int, int], None] = lambda _done, _total: None
) -> list[tuple[str, str]]:
    """(name, problem) for each file of `folder` not as `listed` (name -> sha256) says; empty when every file matches."""
    problems = []
    for number, (name, sha256) in enumerate(listed.items(), start=1):
        on_file(number, len(listed))
        path = folder / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            problems.append((name, OUTSIDE))
        elif not path.exists():
            problems.append((name, MISSING))
        elif file_sha256(path) != sha256:
            problems.append((name, ALTERED))
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_file() and name != manifest_name and name not in listed:
            problems.append((name, UNLISTED))
    return problems
