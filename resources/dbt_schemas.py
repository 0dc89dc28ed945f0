"""dbt's JSON schemas for the config classes it validates, kept from one dbt invocation to the next.

dbt checks the project, the profile and every node's config against a JSON
schema it derives from the config's dataclass (through mashumaro), once per
process. keel runs each `dbt build` in a child forked for it
(resources/dbt_fork.py), so every invocation derived the same dozen schemas
again: 1.8 s of a 5.2 s `dbt build` of the daily models on this machine
(docs/BENCHMARKS.md, "Profiling"). A schema depends only on the installed
code, so the child starts with the schemas an earlier invocation saved,
in a file named for the versions of the packages that define them, and
saves any it had to derive.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# The packages whose classes (and mashumaro, which derives the schemas) decide what a schema is.
SCHEMA_PACKAGES = ("dbt-core", "dbt-common", "dbt-adapters", "dbt-duckdb", "mashumaro")


def json_schema_file(directory: Path) -> Path:
    """Where the schemas of the installed dbt are kept in `directory`: another version, another file."""
    versions = ";".join(f"{name}=={importlib.metadata.version(name)}" for name in SCHEMA_PACKAGES)
    return directory / f"dbt_json_schemas.{hashlib.sha256(versions.encode()).hexdigest()[:16]}.json"


def class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def read_schemas(path: Path) -> dict[str, dict]:
    """The schemas saved in `path`; none if it is missing or not a JSON object of objects (it is then rewritten)."""
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(saved, dict) or not all(isinstance(schema, dict) for schema in saved.values()):
        return {}
    return saved


def write_schemas(path: Path, schemas: dict[str, dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}")
    staging.write_text(json.dumps(schemas, sort_keys=True))
    os.replace(staging, path)  # a reader sees the old file or the new one, never half of one


@contextmanager
def json_schemas_kept_in(path: Path | None) -> Iterator[None]:
    """While open, dbt's config classes take their JSON schema from `path` when it has it; afterwards any schema derived meanwhile is saved there.

    Classes that derive their schema their own way (dbt's versioned
    artifacts) are left to it. `None` keeps nothing.
    """
    if path is None:
        yield
        return
    from dbt_common.dataclass_schema import dbtClassMixin

    saved = read_schemas(path)
    derived: dict[str, dict] = {}
    original = dbtClassMixin.__dict__["json_schema"]
    derive = original.__func__

    @functools.cache
    def json_schema(cls):
        name = class_name(cls)
        if name in saved:
            return saved[name]
        # Saved as JSON and read back, so that a derived schema and a saved one are the same value.
        schema = json.loads(json.dumps(derive(cls)))
        derived[name] = schema
        return schema

    dbtClassMixin.json_schema = classmethod(json_schema)
    try:
        yield
    finally:
        dbtClassMixin.json_schema = original
        if derived:
            write_schemas(path, {**read_schemas(path), **saved, **derived})
