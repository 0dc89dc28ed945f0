import re
import subprocess
from types import SimpleNamespace

from keel.executables import venv_tool
from resources.dbt import DBT_PROJECT_DIR, dbt_resource, installed_dbt_version


def test_the_version_dagster_dbt_gets_is_what_the_dbt_executable_reports():
    reported = subprocess.run([venv_tool("dbt"), "--version"], capture_output=True, text=True, check=True).stdout
    core_line = next(line for line in reported.splitlines() if "installed" in line.lower())
    assert str(installed_dbt_version()) == re.search(r"(\d+\.\d+\.\d+)", core_line).group(1)
    assert dbt_resource()._cli_version == installed_dbt_version()


def _nested(depth: int, function):
    return function() if depth == 0 else _nested(depth - 1, function)


def test_the_adapter_is_built_without_reading_the_stack_and_with_the_kept_config_schemas(tmp_path, monkeypatch, stack_reads):
    from resources.dbt import release_duckdb_connection
    from resources.dbt_schemas import json_schema_file, read_schemas

    monkeypatch.setenv("KEEL_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    resource = dbt_resource(json_schema_dir=tmp_path / "schemas")
    try:
        # Called from deep inside, as from a Dagster step.
        adapter = _nested(300, lambda: resource._adapter_for(SimpleNamespace(project_dir=DBT_PROJECT_DIR), ["build"]))
    finally:
        release_duckdb_connection()
    assert adapter is not None and adapter.type() == "duckdb"
    flags = adapter.behavior._flags
    assert flags, "the adapter has behavior flags"
    assert all(flag._behavior_change_event.flag_source.startswith("dbt.adapters.") for flag in flags)
    assert "dbt_common.behavior_flags" not in stack_reads, "the behavior flags read the stack"
    saved = read_schemas(json_schema_file(tmp_path / "schemas"))
    assert any(name.endswith(".Project") for name in saved), sorted(saved)
