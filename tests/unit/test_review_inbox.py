"""The review inbox: good lines kept, each kind of bad line refused with its reason."""

from __future__ import annotations

import json

import pytest

from keel.review import ACCEPTED_COLUMNS, inbox_line, validate_inbox_file, write_inbox_file, write_rejections

QUEUE = {"A000001", "A000002", "A000003", "A000004"}
KNOWN = QUEUE | {"A000010"}  # A000010 was decided automatically
ALREADY = {"A000004"}


def line(**fields) -> str:
    record = {"application_id": "A000001", "decision": "approve", "reviewer": "mchen", "reason": "stable job", "reviewed_at": "2026-01-15T10:00:00+00:00"}
    record.update(fields)
    return json.dumps({k: v for k, v in record.items() if v is not ...})


def inbox(tmp_path, *lines: str, name: str = "2026-01-15-mchen.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_good_lines_are_accepted_with_their_source(tmp_path):
    later = line(application_id="A000002", decision="decline", reviewed_at="2026-01-15T11:30:00+01:00")
    path = inbox(tmp_path, line(), "", later)
    result = validate_inbox_file(path, QUEUE, KNOWN, ALREADY)
    assert result.rejected == []
    accepted = result.accepted
    assert list(accepted.columns) == list(ACCEPTED_COLUMNS)
    assert accepted["application_id"].tolist() == ["A000001", "A000002"]
    assert accepted["line_number"].tolist() == [1, 3]  # the blank line 2 is skipped, not refused
    assert accepted["reviewed_at"].tolist() == ["2026-01-15T10:00:00+00:00", "2026-01-15T10:30:00+00:00"]  # normalized to UTC
    assert (accepted["source_file"] == path.name).all() and accepted["source_sha256"].str.len().eq(64).all()


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ('{"application_id": "A000002", "decision": ', "malformed JSON"),
        ('["A000002", "approve"]', "expected a JSON object"),
        (line(application_id="A000002", reviewer=...), "missing field(s) reviewer"),
        (line(application_id="A000002", reason="  "), "reason is empty"),
        (line(application_id="A000002", decision="maybe"), "decision 'maybe' is not one of approve, decline"),
        (line(application_id="A999999"), "unknown application A999999"),
        (line(application_id="A000010"), "application A000010 is not in the review queue"),
        (line(application_id="A000004"), "A000004 already has a review decision from an earlier inbox file"),
        (line(application_id="A000001", decision="decline"), "A000001 was already decided on line 1 of this file"),
        (line(application_id="A000002", reviewed_at="yesterday"), "reviewed_at 'yesterday' is not an ISO-8601 timestamp"),
        (line(application_id="A000002", reviewed_at="2026-01-15T10:00:00"), "has no timezone offset"),
        (line(application_id="A000002", reviewed_at=1736935200), "is not an ISO-8601 timestamp text"),
        (line(application_id="A000002", amends=True), "A000002 has no review decision to amend"),
        (line(application_id="A000002", amends="yes"), "amends must be true or false, found 'yes'"),
    ],
)
def test_each_kind_of_bad_line_is_refused_and_the_good_ones_kept(tmp_path, bad_line, reason):
    path = inbox(tmp_path, line(), bad_line, line(application_id="A000003"))
    result = validate_inbox_file(path, QUEUE, KNOWN, ALREADY)
    assert result.accepted["application_id"].tolist() == ["A000001", "A000003"]
    assert len(result.rejected) == 1
    rejection = result.rejected[0]
    assert rejection.line_number == 2 and rejection.raw_line == bad_line
    assert reason in rejection.reason


def test_invalid_utf8_line_is_refused(tmp_path):
    path = tmp_path / "bytes.jsonl"
    path.write_bytes(line().encode() + b"\n\xff\xfe{}\n")
    result = validate_inbox_file(path, QUEUE, KNOWN, ALREADY)
    assert len(result.accepted) == 1 and result.rejected[0].reason == "the line is not valid UTF-8 text"


def test_rejections_are_written_per_inbox_file_with_reasons(tmp_path):
    path = inbox(tmp_path, line(), "not json", line(application_id="A999999"))
    result = validate_inbox_file(path, QUEUE, KNOWN, ALREADY)
    target = write_rejections(result, tmp_path / "rejected")
    assert target.name == "2026-01-15-mchen.jsonl.rejected.jsonl"
    written = [json.loads(text) for text in target.read_text().splitlines()]
    assert [(w["line_number"], w["raw_line"]) for w in written] == [(2, "not json"), (3, line(application_id="A999999"))]
    assert written[1]["reason"] == "unknown application A999999"
    before = target.read_bytes()
    write_rejections(result, tmp_path / "rejected")
    assert target.read_bytes() == before


def test_nothing_is_written_when_every_line_is_good(tmp_path):
    result = validate_inbox_file(inbox(tmp_path, line()), QUEUE, KNOWN, ALREADY)
    assert write_rejections(result, tmp_path / "rejected") is None
    assert not (tmp_path / "rejected").exists()


def test_inbox_files_are_written_whole_and_never_overwritten(tmp_path):
    decision = json.loads(line())
    path = write_inbox_file([decision], tmp_path / "inbox", "batch-1.jsonl")
    assert path.read_text() == inbox_line(decision) + "\n"
    with pytest.raises(FileExistsError, match="never overwritten"):
        write_inbox_file([decision], tmp_path / "inbox", "batch-1.jsonl")
    assert [p.name for p in (tmp_path / "inbox").iterdir()] == ["batch-1.jsonl"]
    assert validate_inbox_file(path, QUEUE, KNOWN, set()).accepted["application_id"].tolist() == ["A000001"]


def test_waiting_decisions_are_the_first_per_case_in_arrival_order(tmp_path):
    from keel.review.inbox import waiting_decisions

    early = inbox(tmp_path, line(), "{broken", line(application_id="A000002", decision="decline", reviewer=...), name="a.jsonl")
    late = inbox(
        tmp_path, line(decision="decline", reviewer="ana"), line(application_id="A000003", reviewer="lee"),
        line(application_id="A000004", reviewer="lee", amends=True), name="b.jsonl",
    )
    waiting = waiting_decisions([early, late])
    assert waiting == {
        "A000001": ("approve", "mchen", "a.jsonl", False), "A000003": ("approve", "lee", "b.jsonl", False),
        "A000004": ("approve", "lee", "b.jsonl", True),
    }
    assert waiting_decisions([]) == {}


def test_an_amendment_corrects_a_decision_stored_or_earlier_in_the_file_and_a_plain_second_decision_says_how(tmp_path):
    path = inbox(
        tmp_path,
        line(application_id="A000004", decision="decline", amends=True),  # stored from an earlier file
        line(application_id="A000001"),
        line(application_id="A000001", decision="decline", reviewer="jdoe", amends=True),
        line(application_id="A000001", decision="approve", reviewer="ana", amends=True),
        line(application_id="A000001", decision="decline", amends=False),
    )
    result = validate_inbox_file(path, QUEUE, KNOWN, ALREADY)
    accepted = result.accepted
    assert list(zip(accepted["application_id"], accepted["decision"], accepted["amends"], accepted["line_number"])) == [
        ("A000004", "decline", True, 1), ("A000001", "approve", False, 2), ("A000001", "decline", True, 3), ("A000001", "approve", True, 4),
    ]
    assert [(r.line_number, r.reason) for r in result.rejected] == [
        (5, 'application A000001 was already decided on line 4 of this file; to correct it, send an amendment ("amends": true; `keel review decide ... --amend`)')
    ]


def test_an_amendment_line_says_so_and_a_decision_line_is_as_before():
    decision = json.loads(line())
    assert inbox_line(decision) == line()
    assert json.loads(inbox_line({**decision, "amends": True})) == {**decision, "amends": True}
    assert inbox_line({**decision, "amends": False}) == line()


def test_a_standing_review_of_a_case_no_longer_queued_can_be_amended_and_nothing_else_is_taken_for_it(tmp_path):
    # A000010's day was decided again and the policy now decides it itself; the reviewer's decision stands.
    path = inbox(
        tmp_path,
        line(application_id="A000010", decision="decline", amends=True),
        line(application_id="A000010", decision="decline"),
        line(application_id="A000003", decision="decline", amends=True),
    )
    result = validate_inbox_file(path, QUEUE, KNOWN, ALREADY | {"A000010"})
    assert list(zip(result.accepted["application_id"], result.accepted["amends"])) == [("A000010", True)]
    assert [(r.line_number, r.reason.split(" (")[0]) for r in result.rejected] == [
        (2, "application A000010 is not in the review queue"),
        (3, "application A000003 has no review decision to amend"),
    ]
