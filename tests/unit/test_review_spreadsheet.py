"""The review queue as a spreadsheet: export, fill in, import back as inbox decisions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from keel.policy import load_policy
from keel.review import INBOX_FIELDS, ReviewCsvError, export_queue_csv, import_review_csv, validate_inbox_file, write_inbox_file

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policies" / "credit_policy.yaml")
AT = dt.datetime(2026, 1, 15, 16, 0, tzinfo=dt.timezone.utc)


def queue() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "application_id": ["A000001", "A000002", "A000003"],
            "application_date": ["2026-01-15"] * 3,
            "p_bad": [0.312345678, 0.5, 0.05],
            "suggested_decision": ["approve", "decline", "approve"],
            "reason_codes": ['["SCORE_IN_REVIEW_BAND"]', '["SCORE_IN_REVIEW_BAND"]', '["INCOME_MISSING", "SCORE_BELOW_APPROVE_THRESHOLD"]'],
            "route": ["review"] * 3,
            "due_by": ["2026-01-16T06:00:00+00:00"] * 3,
        }
    )


def fill(path: Path, rows: dict[str, tuple[str, str, str]]) -> None:
    sheet = pd.read_csv(path, dtype=str, keep_default_na=False)
    for case, (decision, reviewer, reason) in rows.items():
        at = sheet["application_id"] == case
        sheet.loc[at, ["decision", "reviewer", "reason"]] = [decision, reviewer, reason]
    sheet.to_csv(path, index=False)


def test_export_gives_reviewers_context_and_empty_columns_to_fill(tmp_path):
    path = export_queue_csv(queue(), tmp_path / "queue.csv", POLICY)
    sheet = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(sheet.columns) == [
        "application_id", "application_date", "p_bad", "suggested_decision", "reasons", "reason_codes", "due_by",
        "decision", "reviewer", "reason",
    ]  # fmt: skip
    assert sheet.loc[0, "p_bad"] == "0.3123"
    assert "did not declare an income" in sheet.loc[2, "reasons"]
    assert (sheet[["decision", "reviewer", "reason"]] == "").all().all()


def test_round_trip_skips_blank_rows_and_produces_valid_inbox_lines(tmp_path):
    path = export_queue_csv(queue(), tmp_path / "queue.csv", POLICY)
    fill(path, {"A000001": ("Approve ", "mchen", "verified payslips"), "A000003": ("decline", "mchen", "income unverifiable")})
    decisions = import_review_csv(path, reviewed_at=AT)
    assert decisions == [
        {"application_id": "A000001", "decision": "approve", "reviewer": "mchen", "reason": "verified payslips", "reviewed_at": AT.isoformat()},
        {"application_id": "A000003", "decision": "decline", "reviewer": "mchen", "reason": "income unverifiable", "reviewed_at": AT.isoformat()},
    ]
    assert all(list(d) == list(INBOX_FIELDS) for d in decisions)
    written = write_inbox_file(decisions, tmp_path / "inbox", "sheet-1.jsonl")
    result = validate_inbox_file(written, {"A000001", "A000002", "A000003"}, {"A000001", "A000002", "A000003"}, set())
    assert result.rejected == [] and result.accepted["application_id"].tolist() == ["A000001", "A000003"]


def test_a_row_with_its_own_timestamp_keeps_it(tmp_path):
    path = export_queue_csv(queue(), tmp_path / "queue.csv")
    fill(path, {"A000002": ("decline", "ana", "debt too high")})
    sheet = pd.read_csv(path, dtype=str, keep_default_na=False)
    sheet["reviewed_at"] = ["", "2026-01-15T09:15:00+01:00", ""]
    sheet.to_csv(path, index=False)
    assert import_review_csv(path, reviewed_at=AT)[0]["reviewed_at"] == "2026-01-15T08:15:00+00:00"


def test_bad_rows_stop_the_import_and_are_all_listed(tmp_path):
    path = export_queue_csv(queue(), tmp_path / "queue.csv")
    fill(path, {"A000001": ("maybe", "mchen", "unsure"), "A000002": ("decline", "", "debt"), "A000003": ("approve", "mchen", "ok")})
    with pytest.raises(ReviewCsvError) as failure:
        import_review_csv(path, reviewed_at=AT)
    message = str(failure.value)
    assert "2 row(s) cannot be imported" in message
    assert "row 2 (A000001): decision 'maybe' is not one of approve, decline" in message
    assert "row 3 (A000002): reviewer is empty" in message


def test_rows_for_cases_that_cannot_take_a_decision_stop_the_import(tmp_path):
    path = export_queue_csv(queue(), tmp_path / "queue.csv")
    fill(path, {"A000001": ("approve", "mchen", "ok"), "A000002": ("decline", "mchen", "debt")})
    taken = {"A000002": "already has a decision waiting in the inbox (approve by ana, d.jsonl)"}
    with pytest.raises(ReviewCsvError) as failure:
        import_review_csv(path, reviewed_at=AT, why_not=taken.get)
    assert "1 row(s) cannot be imported" in str(failure.value)
    assert "row 3 (A000002): already has a decision waiting in the inbox (approve by ana, d.jsonl)" in str(failure.value)
    assert [d["application_id"] for d in import_review_csv(path, reviewed_at=AT, why_not={}.get)] == ["A000001", "A000002"]


def test_a_sheet_without_the_reviewer_columns_is_refused(tmp_path):
    path = tmp_path / "other.csv"
    queue().to_csv(path, index=False)
    with pytest.raises(ReviewCsvError, match="missing column"):
        import_review_csv(path, reviewed_at=AT)


def test_a_sheet_saved_by_a_spreadsheet_program_with_semicolons_and_crlf_imports_the_same(tmp_path):
    path = export_queue_csv(queue(), tmp_path / "queue.csv", POLICY)
    fill(path, {"A000001": ("approve", "mchen", "verified payslips, both months"), "A000003": ("decline", "mchen", "income unverifiable")})
    expected = import_review_csv(path, reviewed_at=AT)
    for separator in (";", "\t"):
        resaved = tmp_path / f"resaved{len(separator)}{ord(separator)}.csv"
        pd.read_csv(path, dtype=str, keep_default_na=False).to_csv(resaved, sep=separator, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        assert import_review_csv(resaved, reviewed_at=AT) == expected


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "is empty"),
        (b"PK\x03\x04\x14\x00\x06\x00", "is a spreadsheet workbook (.xlsx/.xls), not a CSV file"),
        (b"application_id,decision,reviewer,reason\n\xff\xfe,approve,ana,ok\n", "is not UTF-8 text"),
        (b"application_id,decision,reviewer,reason\nA000001,approve,ana,ok\nA000002,decline,ana,no,extra,cells\n", "cannot be read as a ','-separated sheet"),
        (b"a,b\n1,2\n", "missing column(s) application_id, decision, reviewer, reason (found: a, b); export the queue again with `keel review export"),
    ],
)
def test_a_file_that_is_no_review_sheet_is_refused_naming_the_file_and_what_it_is(tmp_path, content, words):
    path = tmp_path / "sheet.csv"
    path.write_bytes(content)
    with pytest.raises(ReviewCsvError) as refused:
        import_review_csv(path, reviewed_at=AT)
    assert str(refused.value).startswith(f"{path}: ") and words in str(refused.value)
