"""The dbt project on DuckDB, prepared once (at install), not at every load."""

from __future__ import annotations

import contextlib
import contextvars
import importlib.metadata
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from keel.executables import venv_tool
from resources.dbt_behavior_flags import behavior_flag_sources_from_frames
from resources.dbt_fork import dbt_forked_from_this_process
from resources.dbt_macros import macros_parsed_once
from resources.dbt_schemas import json_schema_file, json_schemas_kept_in

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# The manifest is prepared by `keel prepare` (run by `make install` and by
# `keel serve`), never at definitions load: parsing costs seconds.


logger = logging.getLogger(__name__)

# Set while dagster-dbt starts dbt: the arguments its adapter is to be built with, once dbt runs.
_ADAPTER_ARGS_PENDING: contextvars.ContextVar[list | None] = contextvars.ContextVar("keel_dbt_adapter_args_pending", default=None)


class VenvDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource for the dbt installed beside this Python, forked rather than started.

    dagster-dbt asks the executable for its version (`dbt --version`, a ~2 s
    subprocess) once per resource instance, which is once per run. The
    executable here is always the venv's own dbt, so the version is the
    installed dbt-core package's.

    dagster-dbt also builds a dbt adapter in the step before it starts dbt
    (parsing dbt's macros, ~1.4 s of every dbt step), though it uses the
    adapter only to read column metadata, and on DuckDB only after dbt has
    finished (one writer at a time). Here dbt starts first and the adapter
    is built while dbt runs in its own process.

    `json_schema_dir` is where the forked dbt keeps the JSON schemas of its
    config classes between invocations (resources/dbt_schemas.py).
    """

    json_schema_dir: str | None = None

    @property
    def _cli_version(self) -> version.Version:
        return installed_dbt_version()

    def _initialize_dbt_core_adapter(self, args):
        pending = _ADAPTER_ARGS_PENDING.get()
        if pending is None:
            return super()._initialize_dbt_core_adapter(args)
        pending.append(list(args))
        return None

    def cli(self, args, **kwargs):
        """dagster-dbt's invocation, with dbt forked from this process (resources/dbt_fork.py) unless KEEL_DBT_FORK=0."""
        pending: list = []
        token = _ADAPTER_ARGS_PENDING.set(pending)
        try:
            with dbt_forked_from_this_process(self._json_schema_file()) if fork_dbt() else contextlib.nullcontext():
                invocation = super().cli(args, **kwargs)
        finally:
            _ADAPTER_ARGS_PENDING.reset(token)
        if pending:
            invocation.adapter = self._adapter_for(invocation, pending[0])
        return invocation

    def _json_schema_file(self) -> Path | None:
        return json_schema_file(Path(self.json_schema_dir)) if self.json_schema_dir else None

    def _adapter_for(self, invocation, args: list):
        """dagster-dbt's adapter for a started invocation, built as it builds it (in the project directory; a failure is a warning, and no adapter).

        With dbt's config schemas from the file the forked dbt keeps
        (resources/dbt_schemas.py), and its behavior flags' sources found
        without reading the step's deep stack (resources/dbt_behavior_flags.py):
        ~1.4 s of a dbt step that waits for the adapter. dbt's macros are
        parsed once per process (resources/dbt_macros.py): ~0.5 s of CPU in each
        later dbt step in a process that runs several (`keel demo`).
        """
        try:
            with (
                contextlib.chdir(invocation.project_dir),
                json_schemas_kept_in(self._json_schema_file()),
                behavior_flag_sources_from_frames(),
                macros_parsed_once(),
            ):
                return super()._initialize_dbt_core_adapter(args)
        except Exception:
            logger.warning("An error was encountered when creating a handle to the dbt adapter in Dagster.", exc_info=True)
            return None


def fork_dbt() -> bool:
    """Whether dbt runs in a child forked from the step (the default) or as the `dbt` executable (KEEL_DBT_FORK=0)."""
    return hasattr(os, "fork") and os.environ.get("KEEL_DBT_FORK", "1") != "0"


def installed_dbt_version() -> version.Version:
    return version.parse(importlib.metadata.version("dbt-core"))


def dbt_resource(json_schema_dir: Path | None = None) -> DbtCliResource:
    # The dbt installed beside this Python, whether or not the venv is on PATH.
    return VenvDbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=venv_tool("dbt"),
        json_schema_dir=str(json_schema_dir) if json_schema_dir else None,
    )


def release_duckdb_connection() -> None:
    """Close the DuckDB connection dbt-duckdb keeps open in this process after a dbt invocation.

    Column metadata is fetched through the dbt adapter inside the step's own
    process, and dbt-duckdb caches that connection at class level (with its
    own configuration). Left open, the next step of an in-process run cannot
    open the warehouse ("different configuration than existing connections").
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = getattr(DuckDBConnectionManager, "_ENV", None)
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


PARTIAL_PARSE = "partial_parse.msgpack"


@contextmanager
def scratch_target(saved_parse_dir: Path) -> Iterator[Path]:
    """A scratch dbt target for one invocation, seeded with the last parse saved in `saved_parse_dir`.

    Each invocation writes ~1.6 MB of compiled SQL and artifacts, so the
    target is removed afterwards; but dbt's parse of the project (~2 s of
    every invocation) is kept, per KEEL_HOME because it depends on the
    warehouse path in the profile, and dbt reparses only what changed since.
    """
    saved = saved_parse_dir / PARTIAL_PARSE
    with tempfile.TemporaryDirectory(prefix="keel-dbt-") as scratch:
        target = Path(scratch)
        if saved.is_file():
            shutil.copyfile(saved, target / PARTIAL_PARSE)
        yield target
        produced = target / PARTIAL_PARSE
        if produced.is_file():
            saved_parse_dir.mkdir(parents=True, exist_ok=True)
            staging = saved_parse_dir / f".{PARTIAL_PARSE}.{os.getpid()}"
            shutil.copyfile(produced, staging)
            os.replace(staging, saved)  # a reader sees the old parse or the new one, never half of one
