"""Landing readers: every row a file delivered, as read, and file-level problems told apart."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from keel.demo_calendar import applications_for
from keel.landing import InvalidLandingName, LandingFileError, parse_landing_name, read_landing_file
from keel.landing_zone import frame_to_bytes

HEADER = b"application_id,age,home\n"


@pytest.fixture(scope="module")
def day():
    return applications_for(dt.date(2026, 1, 3)).head(12).reset_index(drop=True)


def land(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_each_format_reads_every_row_numbered_from_one(tmp_path, day, fmt):
    path = land(tmp_path, f"applications_2026-01-03.{fmt}", frame_to_bytes(day, fmt))
    landed = read_landing_file(path)
    assert landed.format == fmt and landed.row_count == len(day)
    assert landed.frame.index.name == "source_row_number" and landed.frame.index.tolist() == list(range(1, len(day) + 1))
    assert list(landed.frame.columns) == list(day.columns)
    assert landed.frame["application_id"].tolist() == day["application_id"].tolist()
    assert landed.problem is None and landed.problem_rows.empty
    assert landed.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and landed.size_bytes == path.stat().st_size


def test_csv_values_are_read_as_text_so_bad_values_reach_the_contract(tmp_path):
    landed = read_landing_file(land(tmp_path, "a.csv", HEADER + b"A000001,abc,rent\nA000002,,\n"))
    assert str(landed.frame["age"].dtype) == "str"
    assert landed.frame["age"].tolist() == ["abc", ""]


def test_empty_header_only_and_whitespace_files_are_told_apart(tmp_path):
    kinds = {}
    for name, data in {"empty.csv": b"", "blank.csv": b"\n  \n", "header.csv": HEADER, "header_nl.csv": HEADER + b"\n\n"}.items():
        with pytest.raises(LandingFileError) as refused:
            read_landing_file(land(tmp_path, name, data))
        kinds[name] = refused.value.kind
        assert name in str(refused.value)
    assert kinds == {"empty.csv": "empty_file", "blank.csv": "empty_file", "header.csv": "header_only", "header_nl.csv": "header_only"}


def test_header_only_message_lists_the_columns_found(tmp_path):
    with pytest.raises(LandingFileError, match=r"has a header \(3 columns: application_id, age, home\) but no data rows"):
        read_landing_file(land(tmp_path, "applications_2026-01-03.csv", HEADER))


def test_a_missing_file_is_not_a_bad_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_landing_file(tmp_path / "applications_2026-01-03.csv")


def test_csv_cut_mid_row_keeps_the_complete_rows_and_marks_the_cut_one(tmp_path):
    landed = read_landing_file(land(tmp_path, "a.csv", HEADER + b"A000001,30,rent\nA000002,41,own\nA000003,2"))
    assert landed.problem == "truncated_file"
    assert "a.csv" in landed.problem_message and "row 3 has 2 of 3 fields" in landed.problem_message
    assert landed.frame["application_id"].tolist() == ["A000001", "A000002", "A000003"]
    (cut,) = landed.problem_rows.to_dict("records")
    assert cut["row_number"] == 3 and cut["check"] == "truncated_row" and cut["value_found"] == "A000003,2"


def test_csv_cut_inside_a_quoted_value_is_truncated(tmp_path):
    landed = read_landing_file(land(tmp_path, "a.csv", HEADER + b'A000001,30,rent\nA000002,41,"ow'))
    assert landed.problem == "truncated_file" and landed.problem_rows["row_number"].tolist() == [2]


def test_csv_last_row_without_line_end_but_complete_is_not_truncated(tmp_path):
    landed = read_landing_file(land(tmp_path, "a.csv", HEADER + b"A000001,30,rent\nA000002,41,owner"))
    assert landed.problem is None and landed.row_count == 2 and landed.problem_rows.empty


def test_csv_rows_with_wrong_field_counts_are_kept_and_marked_in_place(tmp_path):
    data = HEADER + b'A000001,30,rent\nA000002,41\n"A0000\n03",50,owner\nA000004,1,2,3\nA000005,60,rent\n'
    landed = read_landing_file(land(tmp_path, "a.csv", data))
    assert landed.frame.index.tolist() == [1, 2, 3, 4, 5]
    assert landed.frame["application_id"].tolist() == ["A000001", "A000002", "A0000\n03", "A000004", "A000005"]
    problems = landed.problem_rows.set_index("row_number")
    assert problems["check"].to_dict() == {2: "field_count", 4: "field_count"}
    assert "expected 3 fields as in the header, found only 2 fields" in problems.loc[2, "reason"]
    assert problems.loc[2, "column"] == "home" and problems.loc[4, "value_found"] == "A000004,1,2,3"


def test_csv_non_utf8_bytes_mark_their_row_with_column_and_offset(tmp_path):
    data = HEADER + b"A000001,30,rent\nA000002,41,propri\xe9taire\nA000003,50,owner\n"
    landed = read_landing_file(land(tmp_path, "a.csv", data))
    (problem,) = landed.problem_rows.to_dict("records")
    assert problem["row_number"] == 2 and problem["column"] == "home" and problem["check"] == "not_utf8"
    offset = data.index(b"\xe9")
    assert f"byte 0xE9 at byte offset {offset}" in problem["reason"] and problem["value_found"] == "propri\\xE9taire"
    assert landed.frame.loc[3, "home"] == "owner"


@pytest.mark.parametrize("slice_bytes", [1, 2, 3, 7])
def test_utf8_is_checked_a_slice_at_a_time_and_a_character_may_straddle_slices(tmp_path, monkeypatch, slice_bytes):
    from keel.landing import csv_reader

    monkeypatch.setattr(csv_reader, "_UTF8_CHECK_BYTES", slice_bytes)
    good = HEADER + "A000001,30,propriétaire\nA000002,41,€uro\n".encode()
    landed = read_landing_file(land(tmp_path, "good.csv", good))
    assert landed.problem_rows.empty and landed.frame["home"].tolist() == ["propriétaire", "€uro"]
    cut_character = HEADER + b"A000001,30,rent\nA000002,41,\xe2\x82\n"  # the first two of the three bytes of a euro sign
    (problem,) = read_landing_file(land(tmp_path, "bad.csv", cut_character)).problem_rows.to_dict("records")
    assert problem["row_number"] == 2 and problem["check"] == "not_utf8"


def test_utf8_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    landed = read_landing_file(land(tmp_path, "a.csv", b"\xef\xbb\xbf" + HEADER + b"A000001,30,rent\n"))
    assert list(landed.frame.columns) == ["application_id", "age", "home"]


@pytest.mark.parametrize("separator,called", [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_wrong_delimiter_is_named(tmp_path, separator, called):
    data = f"application_id{separator}age\nA000001{separator}30\n".encode()
    with pytest.raises(LandingFileError, match=f"{called}-separated; expected comma-separated") as refused:
        read_landing_file(land(tmp_path, "a.csv", data))
    assert refused.value.kind == "wrong_delimiter" and "a.csv" in str(refused.value)


def test_a_column_named_twice_is_unreadable(tmp_path):
    with pytest.raises(LandingFileError, match="'age' more than once") as refused:
        read_landing_file(land(tmp_path, "a.csv", b"application_id,age,age\nA1,2,3\n"))
    assert refused.value.kind == "unreadable"


def test_jsonl_bad_lines_cost_only_themselves(tmp_path):
    data = b'{"application_id": "A000001", "age": 30}\n\n{"application_id": "A000002", "age": "abc"}\nnot json\n[1, 2]\n{"application_id": "A0000'
    landed = read_landing_file(land(tmp_path, "a.jsonl", data))
    assert landed.frame.index.tolist() == [1, 3, 4, 5, 6]  # line numbers; the blank line 2 is no row
    assert landed.frame.loc[3, "age"] == "abc"  # a type problem is the contract's business
    problems = landed.problem_rows.set_index("row_number")["check"].to_dict()
    assert problems == {4: "malformed_json", 5: "malformed_json", 6: "truncated_row"}
    assert landed.problem == "truncated_file" and "line 6" in landed.problem_message


def test_jsonl_non_utf8_bytes_mark_their_line(tmp_path):
    data = b'{"application_id": "A000001", "home": "rent"}\n{"application_id": "A000002", "home": "propri\xe9t\xe9"}\n'
    landed = read_landing_file(land(tmp_path, "a.jsonl", data))
    (problem,) = landed.problem_rows.to_dict("records")
    assert problem["row_number"] == 2 and problem["column"] == "home" and problem["check"] == "not_utf8"
    offset = data.index(b"\xe9")
    assert f"byte 0xE9 at byte offset {offset}" in problem["reason"]


def test_jsonl_that_is_not_json_at_all_is_unreadable(tmp_path):
    with pytest.raises(LandingFileError, match="none of its 2 lines is a JSON object") as refused:
        read_landing_file(land(tmp_path, "a.jsonl", HEADER + b"A000001,30,rent\n"))
    assert refused.value.kind == "unreadable"


def test_parquet_cut_before_its_footer_is_truncated_not_unreadable(tmp_path, day):
    whole = frame_to_bytes(day, "parquet")
    with pytest.raises(LandingFileError) as refused:
        read_landing_file(land(tmp_path, "a.parquet", whole[: len(whole) // 2]))
    assert refused.value.kind == "truncated_file" and "footer is missing" in str(refused.value) and "a.parquet" in str(refused.value)
    with pytest.raises(LandingFileError) as refused:
        read_landing_file(land(tmp_path, "b.parquet", b"id,age\n1,2\n"))
    assert refused.value.kind == "unreadable" and "not a Parquet file" in str(refused.value)


def test_parquet_with_a_schema_and_no_rows_is_header_only(tmp_path):
    buffer = io.BytesIO()
    pq.write_table(pa.table({"application_id": pa.array([], pa.string())}), buffer)
    with pytest.raises(LandingFileError) as refused:
        read_landing_file(land(tmp_path, "a.parquet", buffer.getvalue()))
    assert refused.value.kind == "header_only"
    with pytest.raises(LandingFileError) as refused:
        read_landing_file(land(tmp_path, "b.parquet", b""))
    assert refused.value.kind == "empty_file"


def test_unknown_extension_is_unreadable(tmp_path):
    with pytest.raises(LandingFileError, match="unknown landing file format '.xlsx'"):
        read_landing_file(land(tmp_path, "a.xlsx", b"PK\x03\x04"))


def test_parse_landing_name_accepts_the_three_formats():
    assert parse_landing_name("applications_2026-01-03.csv") == ("applications", dt.date(2026, 1, 3), "csv")
    assert parse_landing_name("outcomes_2026-12-31.parquet") == ("outcomes", dt.date(2026, 12, 31), "parquet")
    assert parse_landing_name("outcomes_2024-02-29.jsonl")[1] == dt.date(2024, 2, 29)


@pytest.mark.parametrize(
    "name,reason",
    [
        ("applications_2026-02-30.csv", "not a real calendar date"),
        ("applications_2026-1-3.csv", "YYYY-MM-DD"),
        ("payments_2026-01-03.csv", "unknown source 'payments'"),
        ("applications_2026-01-03.xlsx", "unknown format 'xlsx'"),
        ("../applications_2026-01-03.csv", "path separator"),
        ("sub\\applications_2026-01-03.csv", "path separator"),
        ("applications_..2026-01-03.csv", "'..'"),
        ("applications_2026-01-03.csv.tmp", "not a landing file name"),
        ("Applications_2026-01-03.csv", "not a landing file name"),
        ("", "non-empty"),
    ],
)
def test_parse_landing_name_refuses_with_a_reason(name, reason):
    with pytest.raises(InvalidLandingName, match=reason.replace(".", r"\.").replace("(", r"\(")):
        parse_landing_name(name)
