"""Strict parsing of landing file names: `<source>_<YYYY-MM-DD>.<csv|parquet|jsonl>`.

The name is the only thing that ties a dropped file to a source and a daily
partition, so it is parsed strictly: a name that merely looks close (another
source, a date that does not exist, a path smuggled into the name) is refused
with a reason rather than guessed at.
"""

from __future__ import annotations

import datetime as dt
import re

from keel.landing.errors import InvalidLandingName
from keel.landing_zone import FORMATS, SOURCES, parse_date

_LANDING_NAME = re.compile(r"^(?P<source>[a-z]+)_(?P<date>[^.]*)\.(?P<format>[a-z]+)$")


def parse_landing_name(name: str) -> tuple[str, dt.date, str]:
    """(source, day, format) of a landing file name, or InvalidLandingName saying what is wrong."""
    if not isinstance(name, str) or not name:
        raise InvalidLandingName(f"{name!r}: a landing file name must be a non-empty text")
    if "/" in name or "\\" in name or "\x00" in name:
        raise InvalidLandingName(f"{name!r}: a landing file name may not contain a path separator or NUL byte")
    if ".." in name:
        raise InvalidLandingName(f"{name!r}: a landing file name may not contain '..'")
    expected = f"expected <source>_<YYYY-MM-DD>.<format> with source in {', '.join(SOURCES)} and format in {', '.join(FORMATS)}"
    match = _LANDING_NAME.match(name)
    if match is None:
        raise InvalidLandingName(f"{name!r}: not a landing file name; {expected}")
    source, date_text, fmt = match.group("source"), match.group("date"), match.group("format")
    if source not in SOURCES:
        raise InvalidLandingName(f"{name!r}: unknown source {source!r}; {expected}")
    if fmt not in FORMATS:
        raise InvalidLandingName(f"{name!r}: unknown format {fmt!r}; {expected}")
    try:
        day = parse_date(date_text)
    except ValueError as problem:
        raise InvalidLandingName(f"{name!r}: {problem}") from None
    return source, day, fmt
