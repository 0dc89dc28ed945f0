"""Landing files: strict names, and readers that keep every row a source delivered.

    read_landing_file(path) -> LandingFile      CSV (as text), Parquet, JSON Lines
    parse_landing_name(name) -> (source, date, format)
    LandingFileError(kind in FILE_PROBLEM_KINDS) a file that yields no rows
    InvalidLandingName                           a name that is not <source>_<YYYY-MM-DD>.<format>

Judging the rows is the data contract's job (keel.contracts); the reader only
reports what it alone can see: the file as a whole, and rows it could not read
in full (keel.landing.row_problems).
"""

from keel.landing.errors import (
    EMPTY_FILE,
    FILE_PROBLEM_KINDS,
    HEADER_ONLY,
    TRUNCATED_FILE,
    UNREADABLE,
    WRONG_DELIMITER,
    InvalidLandingName,
    LandingFileError,
)
from keel.landing.names import parse_landing_name
from keel.lazy_exports import lazy_exports

# The readers (pandas, pyarrow) are imported on first use (PEP 562): the
# landing sensor and the definitions need only the names and the errors, and
# load without pandas.
_READERS = {
    "LandingFile": "keel.landing.landing_file",
    "ROW_NUMBER": "keel.landing.row_problems",
    "read_landing_file": "keel.landing.read",
}

__getattr__ = lazy_exports(__name__, _READERS, globals())

__all__ = [
    "EMPTY_FILE",
    "FILE_PROBLEM_KINDS",
    "HEADER_ONLY",
    "ROW_NUMBER",
    "TRUNCATED_FILE",
    "UNREADABLE",
    "WRONG_DELIMITER",
    "InvalidLandingName",
    "LandingFile",
    "LandingFileError",
    "parse_landing_name",
    "read_landing_file",
]
