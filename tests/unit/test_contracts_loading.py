"""Contract files: what each source promises, checked when loaded."""

from __future__ import annotations

import hashlib

import pandera.pandas as pa
import pytest
import yaml

from keel.columns import SOURCE_APPLICATION_COLUMNS, SOURCE_OUTCOME_COLUMNS
from keel.contracts import ContractError, compile_schema, load_contract
from keel.home import REPO_ROOT

CONTRACTS = REPO_ROOT / "policies" / "contracts"


def test_applications_contract_names_the_landing_columns_in_order():
    contract = load_contract(CONTRACTS / "applications.yaml")
    assert contract.name == "applications" and contract.version == "1.1.0" and contract.owner
    assert contract.column_names == SOURCE_APPLICATION_COLUMNS
    assert contract.key == "application_id" and contract.duplicates.keep == "first"
    assert contract.sha256 == hashlib.sha256((CONTRACTS / "applications.yaml").read_bytes()).hexdigest()
    assert set(contract.required_columns) == set(SOURCE_APPLICATION_COLUMNS)
    assert {"age", "income", "assets", "debt", "marital"} <= set(contract.pii_columns)
    assert "application_id" not in contract.pii_columns and "amount" not in contract.pii_columns
    assert {"loan_term", "duration"} <= set(contract.column("time").aliases)
    assert contract.column("age").aliases == ("applicant_age",)
    assert [c for c in ("income", "assets", "debt", "home", "job", "marital") if not contract.column(c).nullable] == []


def test_outcomes_contract_keeps_the_latest_outcome():
    contract = load_contract(CONTRACTS / "outcomes.yaml")
    assert contract.column_names == SOURCE_OUTCOME_COLUMNS
    assert contract.duplicates.keep == "latest" and contract.duplicates.by == "outcome_date"
    assert contract.column("status").categories == ("good", "bad")


def test_contract_compiles_to_a_pandera_schema_with_the_contract_checks():
    contract = load_contract(CONTRACTS / "applications.yaml")
    schema = compile_schema(contract)
    assert isinstance(schema, pa.DataFrameSchema)
    assert list(schema.columns) == list(contract.column_names)
    assert str(schema.columns["age"].dtype) == "Int64" and not schema.columns["age"].nullable
    assert schema.columns["income"].nullable
    assert [c.error for c in schema.columns["age"].checks] == ["range"]
    assert [c.error for c in schema.columns["home"].checks] == ["allowed_values"]
    assert schema.columns["job"].checks == []  # new jobs are reported, not quarantined
    assert schema.columns["age"].metadata == {"pii": True}


def write(tmp_path, document: dict):
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def minimal(**changes) -> dict:
    document = {
        "name": "things",
        "version": "1.0.0",
        "owner": "team",
        "key": "thing_id",
        "columns": [
            {"name": "thing_id", "type": "string", "nullable": False, "pii": False},
            {"name": "size", "type": "integer", "min": 0, "max": 10, "pii": False, "aliases": ["thing_size"]},
        ],
    }
    document.update(changes)
    return document


def test_a_minimal_contract_loads_with_defaults(tmp_path):
    contract = load_contract(write(tmp_path, minimal()))
    assert contract.null_values == ("",) and contract.duplicates.describe() == "keep first by row order"
    assert contract.column("size").nullable and contract.column("size").required


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"version": "1.0"}, "version: expected a semantic version like 1.2.0, found '1.0'"),
        ({"owner": ""}, "owner: required text"),
        ({"key": "missing"}, "key: 'missing' is not one of the columns"),
        ({"colour": "blue"}, "colour: unknown field"),
        ({"duplicates": {"keep": "latest"}}, "duplicates.by: keep: latest needs `by` naming a column"),
        ({"duplicates": {"keep": "random"}}, "duplicates.keep: expected one of first, latest"),
        ({"columns": []}, "columns: expected a non-empty list"),
    ],
)
def test_invalid_contracts_are_refused_naming_the_field(tmp_path, changes, message):
    with pytest.raises(ContractError, match=message.replace(".", r"\.").replace("(", r"\(")) as refused:
        load_contract(write(tmp_path, minimal(**changes)))
    assert str(tmp_path / "contract.yaml") in str(refused.value)


@pytest.mark.parametrize(
    "column,message",
    [
        ({"name": "size2", "type": "integer", "min": 5, "max": 1, "pii": False}, "min 5 is above max 1"),
        ({"name": "size2", "type": "number", "pii": False}, "type must be one of"),
        ({"name": "size2", "type": "integer", "nullabel": True, "pii": False}, "unknown field nullabel"),
        ({"name": "size2", "type": "integer"}, "pii must be stated"),
        ({"name": "size2", "type": "integer", "categories": ["a"], "pii": False}, "categories needs a non-empty list of texts on a string column"),
        ({"name": "size2", "type": "string", "pattern": "([", "pii": False}, "is not a regular expression"),
        ({"name": "size2", "type": "string", "aliases": ["Thing Size"], "pii": False}, "'thing_size' is claimed by both 'size' and 'size2'"),
        ({"name": "Size", "type": "string", "pii": False}, "lower_snake_case"),
    ],
)
def test_invalid_columns_are_refused_naming_the_column(tmp_path, column, message):
    document = minimal()
    document["columns"].append(column)
    with pytest.raises(ContractError, match=message.replace("(", r"\(").replace("[", r"\[")):
        load_contract(write(tmp_path, document))


def test_the_key_may_not_be_nullable(tmp_path):
    document = minimal()
    document["columns"][0]["nullable"] = True
    with pytest.raises(ContractError, match="key column 'thing_id' must be required and not nullable"):
        load_contract(write(tmp_path, document))


def test_not_yaml_is_refused(tmp_path):
    path = tmp_path / "contract.yaml"
    path.write_text("name: [unclosed")
    with pytest.raises(ContractError, match="not valid YAML"):
        load_contract(path)
