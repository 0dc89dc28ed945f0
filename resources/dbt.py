"""The dbt project on DuckDB, prepared once (at install), not at every load."""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# Under `dagster dev` a changed model is re-parsed on reload; elsewhere the
# manifest prepared by `keel prepare` (run by `make install`) is used.
dbt_project.prepare_if_dev()


def dbt_resource() -> DbtCliResource:
    # The dbt installed beside this Python, whether or not the venv is on PATH.
    dbt_executable = Path(sys.executable).with_name("dbt")
    return DbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(dbt_executable) if dbt_executable.exists() else "dbt",
    )
