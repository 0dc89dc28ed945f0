"""A file judged a chunk of rows at a time gives exactly the whole file's result.

What the whole file decides (its header, a column whose type changed, which
copy of a repeated key is kept) must not depend on where the chunks fall: a
repeated key's copies, a column's only parseable value and a blocked file are
spread over several chunks here, and each chunk size gives the same rows,
records, counts and reasons as one pass over the file.
"""

from __future__ import annotations

import pandas as pd
import pytest

from keel.contracts import reconcile
from keel.contracts.apply import ContractChunks, apply_contract
from keel.contracts.result import merge_results
from keel.landing import read_landing_file
from keel.landing_zone import frame_to_bytes
from tests.unit.test_contracts_apply import APPLICATIONS, FILE, OUTCOMES, rows

CHUNK_SIZES = [1, 2, 3, 7]


def _same_in_chunks(frame: pd.DataFrame, contract=APPLICATIONS, sizes=CHUNK_SIZES):
    whole = apply_contract(frame, contract, FILE, "f" * 64)
    assert reconcile(whole.counts)[0], whole.counts
    for size in sizes:
        run = ContractChunks(frame, contract, FILE, "f" * 64, rows_per_chunk=size)
        chunks = list(run.results())
        assert len(chunks) == max(1, -(-len(frame) // size))
        for chunk in chunks:
            assert reconcile(chunk.counts)[0], (size, chunk.counts)
        merged = merge_results(chunks)
        assert run.blocking_errors == whole.blocking_errors
        for part in ("accepted", "quarantine", "duplicates"):
            pd.testing.assert_frame_equal(getattr(merged, part), getattr(whole, part), obj=f"{part}, {size} rows per chunk")
        assert merged.counts == whole.counts and merged.new_categories == whole.new_categories, size
        assert (merged.added_columns, merged.renamed_columns) == (whole.added_columns, whole.renamed_columns)
    return whole


def test_repeated_keys_across_chunks_keep_the_first_row_that_passes():
    frame = rows(
        {"age": "7"},  # a broken first copy of A000001 does not win
        {},
        {"application_id": "A000001"},
        {"home": "castle"},
        {"application_id": "A000002", "amount": "900"},
        {},
        {"application_id": "A000001", "income": "NA"},
        {"application_id": "A000002"},
    )
    whole = _same_in_chunks(frame)
    assert whole.duplicates[["row_number", "kept_row_number"]].values.tolist() == [[5, 2], [7, 3], [8, 2]]
    assert whole.counts == {"received": 8, "accepted": 3, "quarantined": 2, "duplicates": 3}


def test_the_latest_outcome_wins_wherever_its_copies_fall():
    frame = pd.DataFrame(
        {
            "application_id": ["A000001", "A000002", "A000001", "A000003", "A000002", "A000001", "A000002"],
            "outcome_date": ["2026-01-10", "2026-01-09", "2026-01-12", "2026-01-09", "2026-01-09", "2026-01-11", "not a date"],
            "status": ["bad", "good", "good", "good", "bad", "bad", "good"],
        },
        dtype="str",
    )
    whole = _same_in_chunks(frame, OUTCOMES)
    assert whole.accepted[["application_id", "status"]].values.tolist() == [["A000001", "good"], ["A000003", "good"], ["A000002", "bad"]]
    assert whole.duplicates[["row_number", "kept_row_number"]].values.tolist() == [[1, 3], [2, 5], [6, 3]]


def test_a_column_whose_only_parseable_value_is_in_a_late_chunk_is_no_change_of_type():
    small = rows(*[{"age": "thirty"}] * 5, {}, {"age": "forty"})
    whole = _same_in_chunks(small)
    assert not whole.blocking_errors and whole.counts["accepted"] == 1
    assert set(whole.quarantine["check"]) == {"type"} and set(whole.quarantine["row_number"]) == {1, 2, 3, 4, 5, 7}
    # Past the first rows probed for a type (1,000), in the last of several chunks.
    large = rows(*[{"age": "thirty"}] * 2_400, {})
    whole = _same_in_chunks(large, sizes=[700, 2_400])
    assert not whole.blocking_errors and whole.counts == {"received": 2_401, "accepted": 1, "quarantined": 2_400, "duplicates": 0}


def test_a_column_where_no_value_parses_blocks_every_chunk():
    frame = rows(*[{"time": "long"}] * 4, {"time": ""}, {"time": "short"})
    whole = _same_in_chunks(frame)
    assert len(whole.blocking_errors) == 1 and "column 'time' should hold" in whole.blocking_errors[0]
    assert whole.counts == {"received": 6, "accepted": 0, "quarantined": 6, "duplicates": 0}


def test_a_header_problem_blocks_every_chunk_and_new_categories_add_up():
    claimed = rows({}, {}, {}).assign(years_in_job="3")  # two columns claim seniority
    blocked = _same_in_chunks(claimed)
    assert blocked.blocking_errors and blocked.counts["quarantined"] == 3
    new_jobs = _same_in_chunks(rows({"job": "gig"}, {}, {"job": "gig"}, {"job": "barista"}, {"job": "gig"}))
    assert new_jobs.new_categories == {"job": {"barista": 1, "gig": 3}}


def test_rows_the_reader_marked_are_quarantined_in_their_own_chunk(tmp_path):
    path = tmp_path / FILE
    text = frame_to_bytes(rows({}, {}, {}, {}, {"application_id": "A000001"}), "csv")
    lines = text.decode().splitlines(keepends=True)
    lines[2] = lines[2].rstrip("\n") + ",extra\n"  # row 2 has a field too many
    path.write_bytes("".join(lines).encode()[:-20])  # and the last row is cut
    frame = read_landing_file(path).frame
    whole = _same_in_chunks(frame)
    assert whole.quarantine["check"].tolist() == ["field_count", "truncated_row"]
    assert whole.counts == {"received": 5, "accepted": 3, "quarantined": 2, "duplicates": 0}


@pytest.mark.parametrize("size", [1, 4])
def test_blocking_is_known_before_any_chunk_is_judged(size):
    run = ContractChunks(rows(*[{"time": "long"}] * 4), APPLICATIONS, FILE, "f" * 64, rows_per_chunk=size)
    assert run.blocked and run.blocking_errors
    assert not ContractChunks(rows({}, {}), APPLICATIONS, FILE, "f" * 64, rows_per_chunk=size).blocked


def test_an_empty_frame_is_one_empty_chunk():
    run = ContractChunks(rows({}).head(0), APPLICATIONS, FILE, "f" * 64, rows_per_chunk=3)
    (only,) = list(run.results())
    assert only.counts == {"received": 0, "accepted": 0, "quarantined": 0, "duplicates": 0}
