"""What a changed data contract would do to the landed rows (keel/contract_change.py), on real landing files and a real DuckDB."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import duckdb
import pytest

from keel.contract_change import (
    HELD_BACK,
    TAKEN_IN,
    LandedDay,
    contract_changes,
    contract_flips,
    contract_flips_text,
    dry_run,
    expectation_conflicts,
    repeats_in,
)
from keel.contracts import load_contract
from keel.demo_calendar import applications_for
from keel.faults import write_faulty_file
from keel.home import REPO_ROOT, KeelHome
from keel.landing_zone import frame_to_bytes, landing_file_name, write_atomically
from keel.quality.expectations import FEATURE_SUITE, load_suite_config

DAY = "2026-01-03"
IN_FORCE = load_contract(REPO_ROOT / "policies" / "contracts" / "applications.yaml")
SUITE = load_suite_config(FEATURE_SUITE)


def with_column(contract, name, **changes):
    columns = tuple(dataclasses.replace(c, **changes) if c.name == name else c for c in contract.columns)
    return dataclasses.replace(contract, columns=columns, version="9.9.9", sha256="candidate")


@pytest.fixture(scope="module")
def clean():
    return applications_for(dt.date.fromisoformat(DAY)).head(20).reset_index(drop=True)


@pytest.fixture
def castle_day(clean, tmp_path):
    """The fault kit's unknown categories: home 'castle' in row 2, records 'maybe' in row 4."""
    return LandedDay(DAY, write_faulty_file(clean, tmp_path, DAY, "unknown_category"))


def flips(candidate, landed, repeats=None, in_force=IN_FORCE):
    return contract_flips(in_force, candidate, landed, repeats, SUITE)


def test_the_contract_in_force_flips_nothing_and_changes_no_setting(castle_day):
    result = flips(IN_FORCE, [castle_day])
    assert (result["flipped"], result["flips"], result["changed"], result["version_not_bumped"]) == (0, {}, {}, False)
    day = result["days"][0]
    assert day["now"] == day["after"] == {TAKEN_IN: 18, HELD_BACK: 2, "duplicates": 0, "blocked": False, "block_reason": None}


def test_a_new_category_takes_in_the_row_that_held_it_and_the_suite_that_would_block_it_is_named(castle_day):
    candidate = with_column(IN_FORCE, "home", categories=(*IN_FORCE.column("home").categories, "castle"))
    result = flips(candidate, [castle_day])
    assert result["flips"] == {"held_back->taken_in": 1}
    [row] = result["flipped_rows"]
    assert (row["row_number"], row["now"], row["after"], row["checks"]) == (2, HELD_BACK, TAKEN_IN, ["home: allowed_values"])
    assert "castle" in row["problems"][0]
    assert result["days"][0]["taken_in"] == 1 and result["days_to_run_again"] == [DAY]
    assert result["changed"]["columns.home.categories"]["to"][-1] == "castle"
    [conflict] = result["downstream"]
    assert (conflict["column"], conflict["severity"], conflict["candidate_lets_through"]) == ("home", "error", "categories ['castle']")
    text = contract_flips_text(result)
    assert f"{DAY} row 2" in text and "held_back -> taken_in (home: allowed_values)" in text
    assert f"keel run --date {DAY}" in text and "ERROR: it blocks the day" in text


def test_a_narrower_range_holds_back_rows_it_took_in_with_the_check_that_would(castle_day, clean):
    youngest = int(clean["age"].min())
    candidate = with_column(IN_FORCE, "age", min=youngest + 1)
    result = flips(candidate, [castle_day])
    expected = int((clean["age"] == youngest).sum()) - int(clean.loc[[1, 3], "age"].eq(youngest).sum())  # rows 2 and 4 are held back already
    assert result["flips"] == {"taken_in->held_back": expected} and expected > 0
    assert result["held_back_by_check"] == {"age: range": expected}
    assert result["days_to_run_again"] == [] and result["downstream"] == []  # narrower than the suite's 18..100


def test_an_id_another_day_delivered_stays_held_back_when_the_candidate_would_take_it_in(castle_day, clean):
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.applications as select application_id, '2026-01-01' as partition_date, "
                "'applications_2026-01-01.csv' as source_file, 7 as source_row_number from (values (?)) t(application_id)",
                [clean.loc[1, "application_id"]])
    candidate = with_column(IN_FORCE, "home", categories=(*IN_FORCE.column("home").categories, "castle"))
    result = flips(candidate, [castle_day], repeats=repeats_in(con))
    assert result["flipped"] == 0 and result["other_days_checked"] is True
    assert result["days"][0]["after"][HELD_BACK] == 2


def test_a_required_column_the_files_lack_blocks_the_day_after_and_holds_back_every_row(castle_day):
    branch = dataclasses.replace(
        IN_FORCE.column("home"), name="branch", nullable=True, required=True, aliases=(), categories=None, new_categories="quarantine"
    )
    candidate = dataclasses.replace(IN_FORCE, columns=(*IN_FORCE.columns, branch), version="9.9.9", sha256="candidate")
    result = flips(candidate, [castle_day])
    now, after = result["days"][0]["now"], result["days"][0]["after"]
    assert (now["blocked"], after["blocked"]) == (False, True) and "branch" in after["block_reason"]
    assert result["flips"] == {"taken_in->held_back": 18}
    assert result["changed"] == {"columns.branch": {"from": None, "to": "string, nullable, required"}, "version": {"from": "1.1.0", "to": "9.9.9"}}
    assert "after: blocked (" in contract_flips_text(result)


def test_a_missing_required_column_blocks_under_both_and_flips_nothing(clean, tmp_path):
    landed = LandedDay(DAY, write_faulty_file(clean, tmp_path, DAY, "missing_required_column"))
    result = flips(with_column(IN_FORCE, "home", categories=None), [landed])
    assert result["flipped"] == 0 and result["days"][0]["now"]["blocked"] and result["days"][0]["after"]["blocked"]


def test_a_file_that_yields_no_rows_is_said_once_for_both(clean, tmp_path):
    landed = LandedDay(DAY, write_faulty_file(clean, tmp_path, DAY, "header_only"))
    result = flips(IN_FORCE, [landed])
    assert result["flipped"] == 0 and "no data rows" in result["days"][0]["file_problem"]
    assert "(under either contract)" in contract_flips_text(result)


def test_a_column_that_reports_new_categories_is_named_by_its_setting_and_against_the_suites_set():
    candidate = dataclasses.replace(with_column(IN_FORCE, "marital", new_categories="report"), version=IN_FORCE.version)
    assert contract_changes(IN_FORCE, candidate) == {"columns.marital.new_categories": {"from": "quarantine", "to": "report"}}
    conflicts = expectation_conflicts(IN_FORCE, candidate, SUITE)
    assert [(c["column"], c["severity"], c["candidate_lets_through"]) for c in conflicts] == [("marital", "error", "values outside its categories")]
    assert expectation_conflicts(IN_FORCE, IN_FORCE, SUITE) == []  # job reports new kinds already: not a change


def test_a_wider_range_than_the_suite_allows_is_named():
    candidate = with_column(IN_FORCE, "age", max=120)
    [conflict] = expectation_conflicts(IN_FORCE, candidate, SUITE)
    assert (conflict["expectation"], conflict["candidate_lets_through"]) == ("expect_column_values_to_be_between", "range 18..120")


def test_the_dry_run_judges_the_last_landed_days_of_the_candidates_source(clean, tmp_path):
    home = KeelHome(tmp_path / "home")
    folder = home.landing_dir("applications")
    for day in ("2026-01-01", "2026-01-02", "2026-01-03"):
        write_atomically(folder / landing_file_name("applications", dt.date.fromisoformat(day)), frame_to_bytes(clean.assign(application_date=day), "csv"))
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text((REPO_ROOT / "policies" / "contracts" / "applications.yaml").read_text().replace("version: 1.1.0", "version: 1.1.0\n# edited"))
    result = dry_run(home, candidate, days=2)
    assert [d["date"] for d in result["days"]] == ["2026-01-02", "2026-01-03"]
    assert result["version_not_bumped"] is True and result["changed"] == {} and result["other_days_checked"] is False
    assert "bump `version`" in contract_flips_text(result)
    write_atomically(folder / landing_file_name("applications", dt.date(2026, 1, 3), "jsonl"), frame_to_bytes(clean, "jsonl"))
    with pytest.raises(ValueError, match="several files for applications on 2026-01-03"):
        dry_run(home, candidate, days=2)
    (folder / landing_file_name("applications", dt.date(2026, 1, 3), "jsonl")).unlink()
    outcomes = tmp_path / "outcomes.yaml"
    outcomes.write_text((REPO_ROOT / "policies" / "contracts" / "outcomes.yaml").read_text())
    with pytest.raises(LookupError, match="no outcomes files in the landing folder"):
        dry_run(home, outcomes)
    stranger = tmp_path / "stranger.yaml"
    stranger.write_text(candidate.read_text().replace("name: applications", "name: ../../etc"))
    with pytest.raises(ValueError, match="not a source keel takes in"):
        dry_run(home, stranger)
    with pytest.raises(LookupError, match="no warehouse yet"):
        dry_run(home, None)
    with pytest.raises(ValueError, match="'payments' is not a source keel takes in"):
        dry_run(home, None, source="payments")


def test_without_a_candidate_the_contract_in_force_is_compared_with_what_the_ingest_recorded(castle_day, clean, tmp_path):
    from keel.contract_change import recorded_in
    from keel.ingest import ingest_file_into

    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ingest_file_into(con, castle_day.path, "applications", dt.date.fromisoformat(DAY))
    recorded = recorded_in(con, "applications", IN_FORCE.key)
    _fates, counts = recorded(DAY, hashlib.sha256(castle_day.path.read_bytes()).hexdigest())
    assert counts == {TAKEN_IN: 18, HELD_BACK: 2, "duplicates": 0, "blocked": False, "block_reason": None}
    assert recorded(DAY, "another file's sha256") is None
    same = contract_flips(IN_FORCE, IN_FORCE, [castle_day], repeats_in(con), SUITE, recorded=recorded)
    assert (same["against"], same["flipped"], same["days"][0]["now"]) == ("recorded", 0, same["days"][0]["after"])
    # As after a contract taking 'castle' in was merged: the day's run recorded row 2 held back, a run again takes it in.
    merged = with_column(IN_FORCE, "home", categories=(*IN_FORCE.column("home").categories, "castle"))
    after_merge = contract_flips(merged, merged, [castle_day], repeats_in(con), SUITE, recorded=recorded)
    assert after_merge["flips"] == {"held_back->taken_in": 1} and after_merge["days_to_run_again"] == [DAY]
    assert after_merge["flipped_rows"][0]["row_number"] == 2 and after_merge["changed"] == {} and after_merge["downstream"] == []
    assert "run each day with rows to take in again: keel run --date 2026-01-03" in contract_flips_text(after_merge)
    unrun = LandedDay("2026-01-02", write_faulty_file(clean.assign(application_date="2026-01-02"), tmp_path / "other", "2026-01-02", "renamed_column"))
    assert contract_flips(IN_FORCE, IN_FORCE, [unrun], None, SUITE, recorded=recorded)["days"][0]["not_taken_in"] is True
