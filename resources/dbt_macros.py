"""dbt's macros parsed once per process for the adapter dagster-dbt builds in every dbt step.

dagster-dbt builds a dbt adapter to read the built models' column schema,
and building one parses every macro of dbt, dbt-duckdb and the project
(~0.5 s of Jinja parsing each time). A process that runs many dbt steps (a
`keel demo` runs a day at a time in its own process) parsed the same files
again each day. Inside `macros_parsed_once()` the parse is kept and handed
out again while no macro file has changed (each file's path, size and
modification time are the key); the adapter itself is built afresh each
time, as dagster-dbt builds it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_LOCK = threading.Lock()
# The last parse and its key: one project, so one entry is enough.
_PARSED: dict[tuple, Any] = {}


@contextmanager
def macros_parsed_once() -> Iterator[None]:
    """dbt's `ManifestLoader.load_macros` keeps its parse of the base macros while this is open."""
    from dbt.parser.manifest import ManifestLoader

    original = ManifestLoader.__dict__["load_macros"]

    def load_macros(cls, root_config, macro_hook, base_macros_only=False):
        if not base_macros_only:
            return original.__func__(cls, root_config, macro_hook, base_macros_only)
        key = macro_files_key(root_config.load_dependencies(base_only=True))
        with _LOCK:
            if key not in _PARSED:
                _PARSED.clear()
                _PARSED[key] = original.__func__(cls, root_config, macro_hook, base_macros_only=True)
            return _PARSED[key]

    with _LOCK:
        ManifestLoader.load_macros = classmethod(load_macros)
    try:
        yield
    finally:
        with _LOCK:
            ManifestLoader.load_macros = original


def macro_files_key(projects: Mapping[str, Any]) -> tuple:
    """Each project's name, folder and macro files (path, size, modification time): what the parse depends on."""
    return tuple(
        (name, str(project.project_root), _files(Path(project.project_root), project.macro_paths))
        for name, project in sorted(projects.items())
    )


def _files(root: Path, folders: list[str]) -> tuple:
    found = []
    for folder in folders:
        for directory, _subdirectories, names in os.walk(root / folder):
            for name in names:
                stat = os.stat(os.path.join(directory, name))
                found.append((os.path.join(directory, name), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))
