"""dbt's macros parsed once per process for dagster-dbt's adapter (resources/dbt_macros.py)."""

import shutil
from types import SimpleNamespace

import pytest

from keel.executables import venv_tool
from resources.dbt import DBT_PROJECT_DIR, VenvDbtCliResource, release_duckdb_connection
from resources.dbt_macros import macro_files_key, macros_parsed_once


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the dbt project (its own macros), with a warehouse of its own."""
    copy = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setenv("KEEL_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    return copy


def _adapter(project):
    resource = VenvDbtCliResource(project_dir=str(project), profiles_dir=str(project), dbt_executable=venv_tool("dbt"))
    try:
        return resource._adapter_for(SimpleNamespace(project_dir=project), ["build"])
    finally:
        release_duckdb_connection()


def test_adapters_built_in_one_process_share_one_parse_of_the_macros(project):
    first, second = _adapter(project), _adapter(project)
    assert first is not second, "each dbt step gets an adapter of its own"
    assert first._macro_resolver is second._macro_resolver
    assert "macro.keel.generate_schema_name" in first._macro_resolver.macros


def test_a_changed_macro_file_is_parsed_again(project):
    before = _adapter(project)._macro_resolver
    macro = project / "macros" / "generate_schema_name.sql"
    macro.write_text(macro.read_text() + "\n{% macro keel_added_today() %}1{% endmacro %}\n")
    after = _adapter(project)._macro_resolver
    assert after is not before
    assert "macro.keel.keel_added_today" in after.macros and "macro.keel.keel_added_today" not in before.macros


def test_outside_the_block_dbt_loads_macros_its_own_way():
    from dbt.parser.manifest import ManifestLoader

    original = ManifestLoader.__dict__["load_macros"]
    with macros_parsed_once():
        assert ManifestLoader.__dict__["load_macros"] is not original
    assert ManifestLoader.__dict__["load_macros"] is original


def test_the_key_follows_each_macro_file_and_nothing_else(tmp_path):
    (tmp_path / "macros" / "nested").mkdir(parents=True)
    (tmp_path / "models").mkdir()
    macro = tmp_path / "macros" / "nested" / "a.sql"
    macro.write_text("{% macro a() %}1{% endmacro %}")
    projects = {"p": SimpleNamespace(project_root=str(tmp_path), macro_paths=["macros"])}
    key = macro_files_key(projects)
    assert macro_files_key(projects) == key
    (tmp_path / "models" / "m.sql").write_text("select 1")
    assert macro_files_key(projects) == key, "a model is not a macro"
    macro.write_text("{% macro a() %}22{% endmacro %}")
    assert macro_files_key(projects) != key
    key = macro_files_key(projects)
    (tmp_path / "macros" / "b.sql").write_text("{% macro b() %}1{% endmacro %}")
    assert macro_files_key(projects) != key
