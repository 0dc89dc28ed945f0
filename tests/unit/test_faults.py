"""Every fault a source can send ends as the documented outcome, with a message a person can act on."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from typer.testing import CliRunner

from keel.cli.main import app
from keel.contracts import apply_contract, load_contract, reconcile
from keel.demo_calendar import applications_for
from keel.faults import FAULT_KINDS, faulty_bytes, write_faulty_file
from keel.home import REPO_ROOT
from keel.landing import LandingFileError, read_landing_file

DAY = "2026-01-03"
FILE = f"applications_{DAY}.csv"
ROWS = 20
CONTRACT = load_contract(REPO_ROOT / "policies" / "contracts" / "applications.yaml")


@pytest.fixture(scope="module")
def clean():
    return applications_for(dt.date.fromisoformat(DAY)).head(ROWS).reset_index(drop=True)


def ingest(clean, tmp_path, kind):
    path = write_faulty_file(clean, tmp_path, DAY, kind)
    landed = read_landing_file(path)
    return landed, apply_contract(landed.frame, CONTRACT, path.name, landed.sha256)


def quarantined_rows(result) -> list[int]:
    return sorted(set(result.quarantine["row_number"].astype(int)))


# fault -> (accepted, quarantined, duplicates, blocked) for a 20-row day
OUTCOMES = {
    "renamed_column": (20, 0, 0, False),
    "added_column": (20, 0, 0, False),
    "missing_required_column": (0, 20, 0, True),
    "type_change": (0, 20, 0, True),
    "unparseable_values": (18, 2, 0, False),
    "duplicate_rows": (20, 0, 3, False),
    "required_nulls": (18, 2, 0, False),
    "out_of_range": (17, 3, 0, False),
    "unknown_category": (18, 2, 0, False),
    "truncated_file": (19, 1, 0, False),
    "non_utf8_bytes": (19, 1, 0, False),
}
FILE_FAULTS = {"empty_file", "header_only", "wrong_delimiter"}


def test_every_fault_kind_has_a_documented_outcome():
    assert set(OUTCOMES) | FILE_FAULTS == set(FAULT_KINDS)


@pytest.mark.parametrize("kind", sorted(OUTCOMES))
def test_fault_outcome_and_counts_balance(clean, tmp_path, kind):
    _, result = ingest(clean, tmp_path, kind)
    accepted, quarantined, duplicates, blocked = OUTCOMES[kind]
    received = accepted + quarantined + duplicates
    assert result.counts == {"received": received, "accepted": accepted, "quarantined": quarantined, "duplicates": duplicates}
    assert result.blocked is blocked
    assert reconcile(result.counts)[0]
    assert len(result.accepted) == accepted and result.quarantine["row_number"].nunique() == quarantined


@pytest.mark.parametrize("kind", sorted(FILE_FAULTS))
def test_file_faults_are_refused_with_their_kind_and_file_name(clean, tmp_path, kind):
    with pytest.raises(LandingFileError) as refused:
        read_landing_file(write_faulty_file(clean, tmp_path, DAY, kind))
    assert refused.value.kind == kind
    assert FILE in str(refused.value)


def test_faulty_files_are_deterministic(clean):
    for kind in FAULT_KINDS:
        assert faulty_bytes(clean, kind) == faulty_bytes(clean.copy(), kind), kind


def test_unknown_fault_and_too_few_rows_are_refused(clean, tmp_path):
    with pytest.raises(ValueError, match="unknown fault 'gremlins'"):
        write_faulty_file(clean, tmp_path, DAY, "gremlins")
    with pytest.raises(ValueError, match="at least 6 clean rows"):
        write_faulty_file(clean.head(2), tmp_path, DAY, "out_of_range")


def test_renamed_column_is_mapped_back_and_reported(clean, tmp_path):
    _, result = ingest(clean, tmp_path, "renamed_column")
    assert result.renamed_columns == {"loan_term": "time"}
    assert result.accepted["time"].tolist() == clean["time"].tolist()


def test_added_column_is_reported_and_kept_out(clean, tmp_path):
    _, result = ingest(clean, tmp_path, "added_column")
    assert result.added_columns == ["channel"]
    assert "channel" not in result.accepted.columns


def test_missing_required_column_blocks_naming_file_column_expected_and_found(clean, tmp_path):
    _, result = ingest(clean, tmp_path, "missing_required_column")
    (message,) = result.blocking_errors
    assert FILE in message and "'income'" in message and "income or monthly_income" in message
    assert "found columns application_id" in message and "blocked" in message
    assert set(result.quarantine["check"]) == {"missing_required_column"}
    assert result.accepted.empty


def test_type_change_blocks_naming_the_type_expected_and_the_values_found(clean, tmp_path):
    _, result = ingest(clean, tmp_path, "type_change")
    (message,) = result.blocking_errors
    first = f"{int(clean['amount'][0])} EUR"
    assert FILE in message and "'amount'" in message and "a whole number" in message and repr(first) in message
    assert result.quarantine.loc[result.quarantine["row_number"] == 1, "value_found"].item() == first


def test_unparseable_values_quarantine_their_rows_with_the_value_found(clean, tmp_path):
    _, result = ingest(clean, tmp_path, "unparseable_values")
    records = result.quarantine.set_index("row_number")
    assert records.loc[2, "column"] == "age" and records.loc[2, "check"] == "type" and records.loc[2, "value_found"] == "abc"
    assert records.loc[4, "column"] == "income" and records.loc[4, "value_found"] == "n/a!"
    assert f"{FILE} row 2, column age: expected a whole number, found 'abc'" in records.loc[2, "reason"]


def test_duplicate_rows_point_at_the_row_kept(clean, tmp_path):
    _, result = ingest(clean, tmp_path, "duplicate_rows")
    dups = result.duplicates.set_index("row_number")
    assert dups["kept_row_number"].to_dict() == {21: 1, 22: 3, 23: 2}
    assert dups.loc[21, "application_id"] == clean["application_id"][0]
    assert dups["identical_to_kept"].to_dict() == {21: True, 22: True, 23: False}
    assert set(dups["rule"]) == {"keep first by row order"}
    # the kept row is the first copy, with its original amount
    kept = result.accepted.set_index("source_row_number")
    assert kept.loc[2, "amount"] == clean["amount"][1]


def test_required_nulls_say_the_value_may_not_be_empty(clean, tmp_path):
    _, result = ingest(clean, tmp_path, "required_nulls")
    records = result.quarantine.set_index("row_number")
    assert quarantined_rows(result) == [2, 4]
    assert records.loc[2, "column"] == "application_id" and records.loc[2, "check"] == "not_null"
    assert "may not be empty" in records.loc[4, "reason"] and "found nothing" in records.loc[4, "reason"]
    assert f"{FILE} row 4, column age" in records.loc[4, "reason"]


def test_out_of_range_records_every_failure_and_quarantines_each_row_once(clean, tmp_path):
    _, result = ingest(clean, tmp_path, "out_of_range")
    found = set(zip(result.quarantine["row_number"].astype(int), result.quarantine["column"], result.quarantine["value_found"]))
    assert found == {(1, "age", "7"), (3, "amount", "-100"), (5, "age", "150"), (5, "time", "0")}
    assert result.counts["quarantined"] == 3
    reason = result.quarantine.query("row_number == 1")["reason"].item()
    assert reason.startswith(f"{FILE} row 1, column age: expected a whole number between 18 and 100, found '7'")


def test_unknown_category_names_the_allowed_values(clean, tmp_path):
    _, result = ingest(clean, tmp_path, "unknown_category")
    reason = result.quarantine.query("column == 'home'")["reason"].item()
    assert "row 2" in reason and "one of owner, rent, parents, other, priv, ignore" in reason and "'castle'" in reason
    assert result.quarantined_by_check == {"allowed_values": 2}


def test_truncated_file_keeps_complete_rows_and_quarantines_the_cut_one(clean, tmp_path):
    landed, result = ingest(clean, tmp_path, "truncated_file")
    assert landed.problem == "truncated_file" and FILE in landed.problem_message
    (record,) = result.quarantine.to_dict("records")
    assert record["row_number"] == ROWS and record["check"] == "truncated_row"
    assert f"{FILE} row {ROWS}: the file ends inside this row (expected 15 fields and a line end" in record["reason"]
    assert result.accepted["source_row_number"].tolist() == list(range(1, ROWS))


def test_non_utf8_bytes_cost_only_their_row(clean, tmp_path):
    landed, result = ingest(clean, tmp_path, "non_utf8_bytes")
    (record,) = result.quarantine.to_dict("records")
    assert record["row_number"] == 2 and record["column"] == "home" and record["check"] == "not_utf8"
    first_bad_byte = landed.path.read_bytes().index(b"\xe9")
    assert f"byte 0xE9 at byte offset {first_bad_byte}" in record["reason"] and record["value_found"] == "propri\\xE9t\\xE9"
    assert 2 not in result.accepted["source_row_number"].tolist()


def test_keel_land_help_names_every_fault_it_can_write():
    shown = CliRunner().invoke(app, ["land", "--help"], terminal_width=200).output
    listed = re.sub(r"[\s│]+", " ", shown)  # the help box wraps and frames long lines
    for kind in FAULT_KINDS:
        assert kind in listed, kind
