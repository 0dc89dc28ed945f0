"""dbt's config schemas kept between forked dbt invocations (resources/dbt_schemas.py)."""

import json

import pytest
from dbt.artifacts.resources.v1.model import ModelConfig
from dbt.contracts.project import Project
from dbt_common.dataclass_schema import ValidationError, dbtClassMixin

from resources import dbt_schemas
from resources.dbt_schemas import class_name, json_schema_file, json_schemas_kept_in


def _derived(cls) -> dict:
    """The schema dbt itself derives for `cls`, as JSON gives it back."""
    return json.loads(json.dumps(dbtClassMixin.__dict__["json_schema"].__func__(cls)))


def test_a_schema_derived_inside_is_dbts_own_and_is_saved_on_leaving(tmp_path):
    path = tmp_path / "schemas.json"
    with json_schemas_kept_in(path):
        assert ModelConfig.json_schema() == _derived(ModelConfig)
        assert not path.exists()  # saved on leaving, once
    assert json.loads(path.read_text()) == {class_name(ModelConfig): _derived(ModelConfig)}


def test_a_saved_schema_is_the_one_dbt_validates_against(tmp_path):
    path = tmp_path / "schemas.json"
    with json_schemas_kept_in(path):
        ModelConfig.validate({"materialized": "table"})
    saved = json.loads(path.read_text())
    # A saved schema that forbids what dbt's own allows: dbt now rejects the same config.
    saved[class_name(ModelConfig)]["properties"]["materialized"] = {"type": "integer"}
    path.write_text(json.dumps(saved))
    with json_schemas_kept_in(path), pytest.raises(ValidationError, match="materialized|integer"):
        ModelConfig.validate({"materialized": "table"})
    ModelConfig.validate({"materialized": "table"})  # outside, dbt's own schema again


def test_nothing_is_written_when_every_schema_was_saved(tmp_path):
    path = tmp_path / "schemas.json"
    with json_schemas_kept_in(path):
        Project.json_schema()
    written = path.stat().st_mtime_ns
    with json_schemas_kept_in(path):
        assert Project.json_schema() == _derived(Project)
    assert path.stat().st_mtime_ns == written


def test_schemas_derived_later_are_added_to_those_saved(tmp_path):
    path = tmp_path / "schemas.json"
    with json_schemas_kept_in(path):
        Project.json_schema()
    with json_schemas_kept_in(path):
        ModelConfig.json_schema()
    assert set(json.loads(path.read_text())) == {class_name(Project), class_name(ModelConfig)}


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"x": 3}'])
def test_an_unreadable_file_counts_as_empty_and_is_rewritten(tmp_path, content):
    path = tmp_path / "schemas.json"
    path.write_text(content)
    with json_schemas_kept_in(path):
        assert ModelConfig.json_schema() == _derived(ModelConfig)
    assert json.loads(path.read_text()) == {class_name(ModelConfig): _derived(ModelConfig)}


def test_dbts_own_derivation_is_back_on_leaving_even_after_an_error(tmp_path):
    original = dbtClassMixin.__dict__["json_schema"]
    with pytest.raises(RuntimeError), json_schemas_kept_in(tmp_path / "schemas.json"):
        assert dbtClassMixin.__dict__["json_schema"] is not original
        raise RuntimeError("dbt failed")
    assert dbtClassMixin.__dict__["json_schema"] is original


def test_none_keeps_nothing(tmp_path):
    original = dbtClassMixin.__dict__["json_schema"]
    with json_schemas_kept_in(None):
        assert dbtClassMixin.__dict__["json_schema"] is original


def test_the_file_is_named_for_the_installed_versions(tmp_path, monkeypatch):
    first = json_schema_file(tmp_path)
    assert first == json_schema_file(tmp_path) and first.parent == tmp_path
    installed = dbt_schemas.importlib.metadata.version
    monkeypatch.setattr(dbt_schemas.importlib.metadata, "version", lambda name: "9.9" if name == "mashumaro" else installed(name))
    assert json_schema_file(tmp_path) != first
