"""Decoding a file that should be UTF-8 but has a few bytes that are not.

A source that writes one value in Latin-1 (an accented name, a pasted symbol)
should cost that row, not the whole file. The bytes that are not UTF-8 are
replaced by a marker character and their offsets kept, so the reader can find
the cells that held them and tell a person exactly which byte at which offset.
"""

from __future__ import annotations

import codecs
import threading
from dataclasses import dataclass

# A Unicode noncharacter: valid in UTF-8, never found in real text, so a cell
# holding it held undecodable bytes.
BAD_BYTES_MARKER = "\uffff"


@dataclass(frozen=True)
class BadBytes:
    offset: int  # byte offset in the file
    raw: bytes

    def describe(self) -> str:
        shown = " ".join(f"0x{b:02X}" for b in self.raw)
        return f"byte{'s' if len(self.raw) > 1 else ''} {shown} at byte offset {self.offset}"


_ERROR_HANDLER = "keel_mark_bad_bytes"
_seen = threading.local()


def _mark_bad_bytes(error: UnicodeDecodeError) -> tuple[str, int]:
    _seen.runs.append((error.start, error.object[error.start : error.end]))
    return BAD_BYTES_MARKER, error.end


codecs.register_error(_ERROR_HANDLER, _mark_bad_bytes)


def decode_marking_bad_bytes(data: bytes, base_offset: int = 0) -> tuple[str, list[BadBytes]]:
    """`data` decoded as UTF-8, each undecodable run replaced by BAD_BYTES_MARKER, with where each run was.

    One pass through the decoder, so a file with bad bytes on every line costs
    no more than one with a single bad byte.
    """
    _seen.runs = []
    try:
        text = data.decode("utf-8", _ERROR_HANDLER)
        return text, [BadBytes(base_offset + start, bytes(raw)) for start, raw in _seen.runs]
    finally:
        _seen.runs = []


def show_bad_bytes(text: str, runs: list[BadBytes]) -> str:
    """`text` with each marker written back as the escaped bytes it stands for (e.g. \\xE9)."""
    parts = text.split(BAD_BYTES_MARKER)
    shown = [parts[0]]
    for index, part in enumerate(parts[1:]):
        raw = runs[index].raw if index < len(runs) else b"?"
        shown.append("".join(f"\\x{b:02X}" for b in raw))
        shown.append(part)
    return "".join(shown)
