"""The ways a landing file can fail as a whole, before any row is looked at.

A source system that crashes mid-export, exports from the wrong tool or sends
an empty drop produces a file that no data contract can judge row by row. These
problems stop the day's partition and must say which file and what was found,
so that the person on call can ask the source for a resend without opening a
debugger. A file that is simply absent is not one of them: that is an outage,
and the caller (the sensor or the asset) reports it.
"""

from __future__ import annotations

EMPTY_FILE = "empty_file"
HEADER_ONLY = "header_only"
TRUNCATED_FILE = "truncated_file"
WRONG_DELIMITER = "wrong_delimiter"
UNREADABLE = "unreadable"
FILE_PROBLEM_KINDS: tuple[str, ...] = (EMPTY_FILE, HEADER_ONLY, TRUNCATED_FILE, WRONG_DELIMITER, UNREADABLE)


class LandingFileError(ValueError):
    """A landing file that cannot yield rows at all; `kind` is one of FILE_PROBLEM_KINDS."""

    def __init__(self, kind: str, file_name: str, message: str, sha256: str = "", size_bytes: int = 0) -> None:
        if kind not in FILE_PROBLEM_KINDS:
            raise ValueError(f"unknown landing file problem {kind!r}; expected one of {', '.join(FILE_PROBLEM_KINDS)}")
        super().__init__(message)
        self.kind = kind
        self.file_name = file_name
        self.sha256 = sha256
        self.size_bytes = size_bytes


class InvalidLandingName(ValueError):
    """A file in the landing zone whose name is not `<source>_<YYYY-MM-DD>.<format>`."""
