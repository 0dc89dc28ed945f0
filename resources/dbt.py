"""The dbt project on DuckDB, prepared once (at install), not at every load."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from keel.executables import venv_tool
from resources.dbt_fork import dbt_forked_from_this_process

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# The manifest is prepared by `keel prepare` (run by `make install` and by
# `keel serve`), never at definitions load: parsing costs seconds.


class VenvDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource for the dbt installed beside this Python, forked rather than started.

    dagster-dbt asks the executable for its version (`dbt --version`, a ~2 s
    subprocess) once per resource instance, which is once per run. The
    executable here is always the venv's own dbt, so the version is the
    installed dbt-core package's.
    """

    @property
    def _cli_version(self) -> version.Version:
        return installed_dbt_version()

    def cli(self, args, **kwargs):
        """dagster-dbt's invocation, with dbt forked from this process (resources/dbt_fork.py) unless KEEL_DBT_FORK=0."""
        if not fork_dbt():
            return super().cli(args, **kwargs)
        with dbt_forked_from_this_process():
            return super().cli(args, **kwargs)


def fork_dbt() -> bool:
    """Whether dbt runs in a child forked from the step (the default) or as the `dbt` executable (KEEL_DBT_FORK=0)."""
    return hasattr(os, "fork") and os.environ.get("KEEL_DBT_FORK", "1") != "0"


def installed_dbt_version() -> version.Version:
    return version.parse(importlib.metadata.version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    # The dbt installed beside this Python, whether or not the venv is on PATH.
    return VenvDbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=venv_tool("dbt"))


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
