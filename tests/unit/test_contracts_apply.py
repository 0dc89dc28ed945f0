"""apply_contract: every received row accepted, quarantined with reasons, or a duplicate of a kept row."""

from __future__ import annotations

import hashlib

import pandas as pd
import yaml

from keel.columns import SOURCE_APPLICATION_COLUMNS
from keel.contracts import apply_contract, load_contract, reconcile
from keel.home import REPO_ROOT
from keel.landing import read_landing_file
from keel.landing_zone import frame_to_bytes
from keel.scenarios import apply_drift
from keel.seed import load_seed_applications

APPLICATIONS = load_contract(REPO_ROOT / "policies" / "contracts" / "applications.yaml")
OUTCOMES = load_contract(REPO_ROOT / "policies" / "contracts" / "outcomes.yaml")
FILE = "applications_2026-01-03.csv"
GOOD = {
    "application_id": "A000001", "application_date": "2026-01-03", "seniority": "9", "home": "rent", "time": "60",
    "age": "30", "marital": "married", "records": "no", "job": "freelance", "expenses": "73", "income": "129.0",
    "assets": "0.0", "debt": "0.0", "amount": "800", "price": "846",
}  # fmt: skip


def rows(*changes: dict, columns=SOURCE_APPLICATION_COLUMNS) -> pd.DataFrame:
    """A text frame as the CSV reader gives it: one good row per change, ids A000001, A000002, ..."""
    records = [{**GOOD, "application_id": f"A{i:06d}", **change} for i, change in enumerate(changes, start=1)]
    return pd.DataFrame(records, columns=list(columns), dtype="str")


def apply(frame, contract=APPLICATIONS):
    result = apply_contract(frame, contract, FILE, "f" * 64)
    assert reconcile(result.counts)[0], result.counts
    return result


def by_row(result) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for record in result.quarantine.to_dict("records"):
        found.setdefault(int(record["row_number"]), []).append((record["column"], record["check"]))
    return found


def test_every_real_seed_application_passes_with_its_real_nulls(tmp_path):
    seed = load_seed_applications().drop(columns=["status"])
    seed.insert(1, "application_date", "2026-01-03")
    path = tmp_path / FILE
    path.write_bytes(frame_to_bytes(seed[list(SOURCE_APPLICATION_COLUMNS)], "csv"))
    landed = read_landing_file(path)
    result = apply(landed.frame)
    assert result.counts == {"received": 4454, "accepted": 4454, "quarantined": 0, "duplicates": 0}
    assert result.accepted["income"].isna().sum() == 381
    assert result.accepted["home"].isna().sum() == 6 and result.accepted["job"].isna().sum() == 2


def test_accepted_rows_are_typed_in_contract_order_with_provenance():
    result = apply(rows({}, {"income": ""}))
    assert list(result.accepted.columns) == [*SOURCE_APPLICATION_COLUMNS, "source_file", "source_sha256", "source_row_number", "raw_row_hash"]
    dtypes = {c: str(t) for c, t in result.accepted.dtypes.items()}
    assert dtypes["age"] == "Int64" and dtypes["income"] == "Float64" and dtypes["home"] == "str"
    assert dtypes["application_date"].startswith("datetime64")
    assert result.accepted["income"].isna().tolist() == [False, True]
    assert result.accepted["source_row_number"].tolist() == [1, 2] and set(result.accepted["source_file"]) == {FILE}


def test_validation_is_lazy_every_failure_of_every_row_is_reported():
    frame = rows(
        {"age": "7", "home": "castle", "amount": "-5"},  # three failures, one row
        {},
        {"application_id": "B12", "records": ""},
        {"time": "twelve"},
        {"application_date": "2026-02-30"},
    )
    result = apply(frame)
    assert by_row(result) == {
        1: [("home", "allowed_values"), ("age", "range"), ("amount", "range")],
        3: [("application_id", "pattern"), ("records", "not_null")],
        4: [("time", "type")],
        5: [("application_date", "type")],
    }
    assert result.counts == {"received": 5, "accepted": 1, "quarantined": 4, "duplicates": 0}
    assert result.quarantined_by_check == {"allowed_values": 1, "not_null": 1, "pattern": 1, "range": 1, "type": 2}
    for reason in result.quarantine["reason"]:
        assert reason.startswith(f"{FILE} row ") and "expected" in reason and "found" in reason


def test_each_quarantine_record_names_the_rows_key_as_received_so_one_application_can_be_traced():
    frame = rows({"age": "7", "home": "castle"}, {}, {"application_id": " A000777 ", "income": "1,200"}, {"application_id": "", "age": "7"})
    result = apply(frame)
    assert list(result.quarantine.columns[:4]) == ["source_file", "source_sha256", "row_number", "application_id"]
    keys = {(int(r["row_number"]), r["column"]): r["application_id"] for r in result.quarantine.to_dict("records")}
    assert keys[(1, "age")] == keys[(1, "home")] == "A000001"
    assert keys[(3, "income")] == "A000777"  # blanks around it dropped, as the reader does for the id itself
    assert pd.isna(keys[(4, "application_id")]) and pd.isna(keys[(4, "age")])
    assert apply(rows({})).quarantine.columns.tolist() == result.quarantine.columns.tolist()  # the same columns when empty
    blocked = apply(rows({}, {}).drop(columns=["age"]))
    assert blocked.blocked and blocked.quarantine["application_id"].tolist() == ["A000001", "A000002"]
    no_key = apply(rows({}, {}).drop(columns=["application_id"]))
    assert no_key.blocked and no_key.quarantine["application_id"].isna().all()


def test_values_that_do_not_parse_quarantine_their_row_but_a_column_where_none_parses_blocks():
    some = apply(rows({"age": "abc"}, {}, {"age": "30.5"}, {"age": "30.0"}))
    assert by_row(some) == {1: [("age", "type")], 3: [("age", "type")]}
    assert some.accepted["age"].tolist() == [30, 30]
    none = apply(rows({"age": "thirty"}, {"age": "forty"}, {"age": ""}))
    assert none.blocked and none.accepted.empty
    (message,) = none.blocking_errors
    assert FILE in message and "'age'" in message and "a whole number" in message and "'thirty'" in message and "none of its 2 values" in message
    assert none.counts == {"received": 3, "accepted": 0, "quarantined": 3, "duplicates": 0}


def test_null_markers_are_nulls_and_say_so_where_a_value_is_required():
    result = apply(rows({"income": "NA", "home": "null"}, {"age": "NA"}))
    assert result.accepted["income"].isna().all() and result.accepted["home"].isna().all()
    reason = result.quarantine["reason"].item()
    assert "row 2, column age" in reason and "found 'NA', which this source writes for no value" in reason


def test_known_renames_and_case_changes_are_applied_and_reported():
    frame = rows({}).rename(columns={"application_id": "Application_ID", "time": "loan_term", "age": "Applicant Age"})
    result = apply(frame[list(reversed(frame.columns))])  # the file's own column order does not matter
    assert result.renamed_columns == {"Application_ID": "application_id", "loan_term": "time", "Applicant Age": "age"}
    assert result.accepted.loc[0, "time"] == 60 and result.accepted.loc[0, "age"] == 30
    assert list(result.accepted.columns[:15]) == list(SOURCE_APPLICATION_COLUMNS)


def test_two_columns_claiming_one_name_block_the_file():
    frame = rows({}).assign(duration="36")
    result = apply(frame)
    (message,) = result.blocking_errors
    assert "'time', 'duration'" in message and "time or loan_term or duration" in message and FILE in message
    assert result.quarantine["check"].tolist() == ["ambiguous_column"]


def test_added_columns_are_reported_and_kept_out_of_accepted():
    result = apply(rows({}).assign(channel="web", score="0.3"))
    assert result.added_columns == ["channel", "score"] and not result.blocked
    assert "channel" not in result.accepted.columns


def test_an_optional_column_may_be_absent(tmp_path):
    document = yaml.safe_load((REPO_ROOT / "policies" / "contracts" / "applications.yaml").read_text())
    for column in document["columns"]:
        if column["name"] == "debt":
            column["required"] = False
    path = tmp_path / "applications.yaml"
    path.write_text(yaml.safe_dump(document))
    result = apply(rows({}, {}).drop(columns=["debt"]), load_contract(path))
    assert result.counts["accepted"] == 2 and result.accepted["debt"].isna().all()


def test_duplicates_point_at_the_kept_row_and_a_broken_first_copy_does_not_win():
    frame = rows({}, {}, {"application_id": "A000001"}, {"application_id": "A000002", "age": "7"}, {"application_id": "A000001", "amount": "900"})
    result = apply(frame)
    assert result.duplicates[["row_number", "application_id", "kept_row_number", "identical_to_kept"]].values.tolist() == [
        [3, "A000001", 1, True],
        [5, "A000001", 1, False],
    ]
    assert by_row(result) == {4: [("age", "range")]}
    broken_first = apply(rows({"age": "7"}, {"application_id": "A000001"}))
    assert broken_first.duplicates.empty and broken_first.accepted["source_row_number"].tolist() == [2]


def test_outcomes_keep_the_latest_by_outcome_date_and_on_a_tie_the_later_row():
    frame = pd.DataFrame(
        {
            "application_id": ["A000001", "A000001", "A000002", "A000002"],
            "outcome_date": ["2026-01-10", "2026-01-08", "2026-01-09", "2026-01-09"],
            "status": ["bad", "good", "good", "bad"],
        },
        dtype="str",
    )
    result = apply(frame, OUTCOMES)
    assert result.accepted[["application_id", "status"]].values.tolist() == [["A000001", "bad"], ["A000002", "bad"]]
    assert result.duplicates[["row_number", "kept_row_number"]].values.tolist() == [[2, 1], [3, 4]]
    assert set(result.duplicates["rule"]) == {"keep latest by outcome_date (on a tie, the later row)"}


def test_a_new_job_is_accepted_and_reported_so_drift_reaches_monitoring():
    seed = load_seed_applications().head(200).drop(columns=["status"])
    seed.insert(1, "application_date", "2026-01-03")
    drifted = apply_drift(seed[list(SOURCE_APPLICATION_COLUMNS)], strength=1.0, seed=3)
    result = apply(drifted)
    gig = int((drifted["job"] == "gig").sum())
    assert gig > 0 and result.counts["accepted"] == 200
    assert result.new_categories == {"job": {"gig": gig}}


def test_typed_frames_from_parquet_and_json_are_judged_the_same_way(tmp_path):
    frame = rows({}, {"age": "7"}).astype({"age": "int64", "income": "float64"})
    for fmt in ("parquet", "jsonl"):
        path = tmp_path / f"applications_2026-01-03.{fmt}"
        path.write_bytes(frame_to_bytes(frame, fmt))
        result = apply(read_landing_file(path).frame)
        assert by_row(result) == {2: [("age", "range")]}, fmt
    mixed = tmp_path / "applications_2026-01-04.jsonl"
    mixed.write_text('{"application_id": "A000001", "age": 30}\n{"application_id": "A000002", "age": "abc"}\n')
    result = apply(read_landing_file(mixed).frame.assign(**{c: GOOD[c] for c in SOURCE_APPLICATION_COLUMNS[1:] if c != "age"}))
    assert by_row(result) == {2: [("age", "type")]}


def test_rows_the_reader_marked_are_quarantined_with_the_readers_reason(tmp_path):
    path = tmp_path / FILE
    text = frame_to_bytes(rows({}, {}, {}), "csv")
    path.write_bytes(text[: len(text) - 20])
    landed = read_landing_file(path)
    result = apply_contract(landed.frame, APPLICATIONS, path.name, landed.sha256)
    assert result.counts == {"received": 3, "accepted": 2, "quarantined": 1, "duplicates": 0}
    assert result.quarantine["check"].tolist() == ["truncated_row"]  # not a list of empty required values
    assert "file ends inside this row" in result.quarantine["reason"].item()
    assert result.quarantine["application_id"].tolist() == ["A000003"], "the cut row keeps its key"


def test_row_numbers_default_to_the_frame_order_without_a_reader_index():
    result = apply(rows({}, {"age": "7"}).set_axis([10, 20]))
    assert result.quarantine["row_number"].tolist() == [2]


def test_raw_row_hash_is_the_documented_sha256_and_ignores_added_and_renamed_columns():
    frame = rows({}, {"income": ""})
    result = apply(frame)
    expected = [
        hashlib.sha256("\x1f".join(record[c] for c in SOURCE_APPLICATION_COLUMNS).encode()).hexdigest()
        for record in frame.to_dict("records")
    ]
    assert result.accepted["raw_row_hash"].tolist() == expected
    renamed = apply(frame.rename(columns={"time": "loan_term"}).assign(channel="web"))
    assert renamed.accepted["raw_row_hash"].tolist() == expected
    with_null = apply(frame.assign(income=pd.Series([None, None], dtype="str")))
    assert with_null.accepted["raw_row_hash"][0] != expected[0]  # a null is not an empty text


def test_blocked_results_keep_the_accepted_columns_and_quarantine_each_row_per_error():
    result = apply(rows({}, {}).drop(columns=["age", "income"]))
    assert len(result.blocking_errors) == 2
    assert list(result.accepted.columns)[:15] == list(SOURCE_APPLICATION_COLUMNS) and result.accepted.empty
    assert len(result.quarantine) == 4 and result.counts["quarantined"] == 2


def test_reconcile_says_what_does_not_add_up():
    assert reconcile({"received": 5, "accepted": 3, "quarantined": 1, "duplicates": 1}) == (
        True,
        "received 5 = accepted 3 + quarantined 1 + duplicates 1",
    )
    balanced, sentence = reconcile({"received": 5, "accepted": 3, "quarantined": 1, "duplicates": 0})
    assert not balanced and "1 row(s) unaccounted for" in sentence and "= 4" in sentence
    assert reconcile({"received": 1})[0] is False
