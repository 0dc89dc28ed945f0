"""The dbt project on DuckDB, prepared once (at install), not at every load."""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from keel.executables import venv_tool

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# The manifest is prepared by `keel prepare` (run by `make install` and by
# `keel serve`), never at definitions load: parsing costs seconds.


def dbt_resource() -> DbtCliResource:
    # The dbt installed beside this Python, whether or not the venv is on PATH.
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=venv_tool("dbt"))
