"""How the upgrade check judges what this checkout's keel did on an earlier keel's home (keel/upgrade_check.py)."""

import datetime as dt
import json

import pytest

from keel.upgrade_check import Outcome, first_pending_case, judge_amendment, judge_champion, judge_replay, report, validate_commit

REFUSED = (
    "keel: 2026-01-02 was decided under policy 1.0.0, policies/credit_policy.yaml is now 1.0.1: "
    "check out the commit of that policy version to replay the day\n"
)


def _json(payload: dict, returncode: int = 0) -> Outcome:
    return Outcome(returncode, json.dumps(payload), "")


def test_a_replay_that_matches_passes():
    check = judge_replay("2026-01-02", _json({"match": True, "rows_replayed": 100, "differences": []}))
    assert check.ok and check.found == "MATCH: 100 decisions byte for byte"


def test_a_replay_refused_for_a_changed_policy_passes_and_says_why():
    check = judge_replay("2026-01-02", Outcome(1, "", REFUSED))
    assert check.ok
    assert check.found.startswith("refused: keel: 2026-01-02 was decided under policy 1.0.0")


def test_a_replay_that_decides_otherwise_fails_with_what_differs_counted():
    # keel replay lists one difference per application and column.
    differences = [{"application_id": "A000001", "column": column} for column in ("route", "reasons")] + [{"application_id": "A000003", "column": "route"}]
    different = {"match": False, "differences": differences, "missing_rows": [], "extra_rows": [{"application_id": "A000002"}]}
    check = judge_replay("2026-01-02", _json(different, returncode=1))
    assert not check.ok
    assert check.found == "DIFFERENT: 3 values differ in 2 applications, 0 recorded rows missing, 1 rows extra"


def test_a_replay_that_fails_for_another_reason_fails_with_its_error():
    check = judge_replay("2026-01-02", Outcome(1, "", "keel: the landing file of 2026-01-02 is gone: restore it from backup to replay the day\n"))
    assert not check.ok and "restore it from backup" in check.found


TAKEN = Outcome(0, "1 inbox files: 1 decisions accepted, 0 lines refused\n", "")


def test_the_amendment_stands_only_when_explain_shows_it_over_the_earlier_decision():
    amended = {"final_decision": "approve", "review_amends": [{"decision": "decline", "reviewer": "upgrade-check"}]}
    assert judge_amendment("A000030", TAKEN, _json(amended)).ok
    assert not judge_amendment("A000030", TAKEN, _json({**amended, "final_decision": "decline"})).ok
    assert not judge_amendment("A000030", TAKEN, _json({**amended, "review_amends": []})).ok
    unexplained = judge_amendment("A000030", TAKEN, Outcome(1, "", "keel: no decision is recorded for A000030\n"))
    assert not unexplained.ok and unexplained.found == "keel: no decision is recorded for A000030"


def test_a_refused_amendment_fails_with_the_refusal_not_with_what_explain_says_after():
    refused = Outcome(1, "", "keel: A000030 has no review decision to amend (send it without --amend)\n")
    check = judge_amendment("A000030", refused, _json({"final_decision": "decline", "review_amends": []}))
    assert not check.ok
    assert check.found == "the amendment was refused: keel: A000030 has no review decision to amend (send it without --amend)"


def test_the_champion_must_be_the_earlier_ones_and_decide_the_new_day():
    upgraded_at = dt.datetime(2026, 12, 6, 3, 0, tzinfo=dt.timezone.utc)
    listed = _json(
        {
            "champion": "m-aaaaaaaaaaaa",
            "versions": [
                {"version": "m-aaaaaaaaaaaa", "created_at": "2026-12-06T02:00:00+00:00"},
                {"version": "m-bbbbbbbbbbbb", "created_at": "2026-12-06T03:05:00+00:00"},
            ],
        }
    )
    assert judge_champion(listed, "m-aaaaaaaaaaaa", upgraded_at).ok
    assert not judge_champion(listed, "m-bbbbbbbbbbbb", upgraded_at).ok, "the new day was decided by another model"
    registered_after = _json({**json.loads(listed.stdout), "champion": "m-bbbbbbbbbbbb"})
    assert not judge_champion(registered_after, "m-bbbbbbbbbbbb", upgraded_at).ok, "the champion was registered after the upgrade"
    assert not judge_champion(_json({"champion": None, "versions": []}), None, upgraded_at).ok
    without_offset = _json({"champion": "m-aaaaaaaaaaaa", "versions": [{"version": "m-aaaaaaaaaaaa", "created_at": "2026-12-06T02:00:00"}]})
    assert judge_champion(without_offset, "m-aaaaaaaaaaaa", upgraded_at).ok, "a time stored without its offset is UTC"


def test_the_oldest_pending_case_is_read_from_review_lists_text():
    listing = (
        "A000030  2026-01-01  p_bad 0.8298  suggest decline  due 2026-01-02T06:00:00+00:00  pending, OVERDUE\n"
        "    why: The applicant did not declare an income. [INCOME_MISSING]\n"
        "A000110  2026-01-01  p_bad 0.1799  suggest approve  [QA]  pending\n"
    )
    assert first_pending_case(listing) == "A000030"
    assert first_pending_case("0 pending, 0 decided\n") is None


@pytest.mark.parametrize("name", ["8973057", "v1.2.0", "origin/main", "HEAD~3", "main^"])
def test_commit_names_git_takes_are_accepted(name):
    assert validate_commit(name) == name


@pytest.mark.parametrize("name", ["", "-rf", "a b", "main..HEAD", "$(reboot)", "x;y"])
def test_anything_else_is_refused_before_it_reaches_git(name):
    with pytest.raises(ValueError, match="is not a commit, tag or branch name"):
        validate_commit(name)


def test_the_report_marks_each_check_and_counts_the_failures():
    passed, failed = judge_replay("2026-01-02", _json({"match": True, "rows_replayed": 100})), judge_replay("2026-01-02", Outcome(1, "", "boom\n"))
    text = report("8973057", [passed, failed])
    assert "ok    keel replay 2026-01-02" in text
    assert "FAIL  keel replay 2026-01-02  boom  (expected: MATCH" in text
    assert text.endswith("1 of 2 checks passed; 1 failed")
