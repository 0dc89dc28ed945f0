"""`keel explain`'s text: one application's story, read by auditors and reviewers."""

from keel.audit.explain import story

RUN_A = "http://127.0.0.1:3000/runs/aaaa"
RUN_B = "http://127.0.0.1:3000/runs/bbbb"


def _record(**changes) -> dict:
    record = {
        "application_id": "A000030", "application_date": "2026-01-01", "source_file": "applications_2026-01-01.csv",
        "row_number": 1, "source_sha256": "007eaf74df70" + "0" * 52, "contract_version": "1.1.0",
        "features": {"income": None, "amount": 1500, "loan_to_price": 0.81081}, "model_unavailable": False,
        "model_version": "m-993e8f582615", "score": 0.83, "policy_version": "1.0.0", "route": "review", "qa_sampled": False,
        "reasons": [{"code": "INCOME_MISSING", "text": "The applicant did not declare an income."}],
        "reviewer": None, "final_decision": "pending", "suggested_decision": "decline",
        "outcome": {"repayment_status": "bad", "outcome_date": "2026-01-08", "corrects": []},
        "run_links": {"raw_applications": RUN_A, "scores": RUN_A, "decisions": RUN_A, "review_outcomes": RUN_B},
    }
    return record | changes


def test_the_story_names_each_run_once_with_the_steps_it_ran():
    runs = story(_record())[-1]
    assert runs == f"Runs: {RUN_A} (raw_applications, scores, decisions); {RUN_B} (review_outcomes)"


def test_the_story_states_score_outcome_and_missing_values_plainly():
    lines = story(_record())
    assert "Model m-993e8f582615 put the probability of bad repayment at 83.0%." in lines
    assert "Outcome: repayment bad, known on 2026-01-08." in lines
    assert any(line.startswith("The model saw: income=missing, amount=1500, loan_to_price=0.8108") for line in lines)
    assert "Outcome: not known yet." in story(_record(outcome=None))


def test_a_corrected_outcome_is_told_with_what_it_corrects():
    outcome = {"repayment_status": "good", "outcome_date": "2026-01-12", "corrects": [{"repayment_status": "bad", "outcome_date": "2026-01-08"}]}
    assert "Outcome: repayment good, known on 2026-01-12 (the source corrected it: earlier bad known on 2026-01-08)." in story(_record(outcome=outcome))


def test_the_outcome_read_from_the_warehouse_is_the_latest_with_the_ones_it_corrects(tmp_path):
    import duckdb

    from keel.audit.explain import _outcome

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert _outcome(con, "A1") is None, "no outcomes table yet"
    con.execute("create schema staging")
    con.execute(
        "create table staging.stg_outcomes as select * from (values ('A1', date '2026-01-12', 'good'), ('A1', date '2026-01-08', 'bad'), "
        "('A2', date '2026-01-08', 'bad')) t(application_id, outcome_date, repayment_status)"
    )
    assert _outcome(con, "A1") == {
        "repayment_status": "good", "outcome_date": "2026-01-12", "corrects": [{"repayment_status": "bad", "outcome_date": "2026-01-08"}]
    }
    assert _outcome(con, "A2") == {"repayment_status": "bad", "outcome_date": "2026-01-08", "corrects": []}
    assert _outcome(con, "A3") is None


def test_without_a_model_the_story_says_the_fallback_decided():
    lines = story(_record(model_unavailable=True, score=None, model_version=None))
    assert "The model was unavailable; the policy's fallback rules decided." in lines
    assert not any("probability" in line for line in lines)


def test_a_superseded_decision_is_told_before_the_one_that_stands():
    earlier = {
        "ledger_batch": 3, "recorded_at": "2026-12-04T20:40:52.173979+00:00", "source_file": "applications_2026-01-01.csv",
        "source_sha256": "3c789c73b86d" + "0" * 52, "row_changed_since": True, "model_version": None, "policy_version": "1.0.0",
        "score": None, "route": "review", "run_link": RUN_A,
    }
    lines = story(_record(earlier_decisions=[earlier]))
    assert lines[1] == "It was decided 2 times; the latest superseded the earlier ones:"
    assert lines[2] == (
        "  - 2026-12-04 20:40:52 UTC (ledger batch 3): from applications_2026-01-01.csv sha256 3c789c73b86d…, the row has changed since; "
        f"model none, policy 1.0.0, no score (fallback rules), routed to review; {RUN_A}"
    )
    assert not any("decided 1 times" in line or "superseded" in line for line in story(_record(earlier_decisions=[])))


def test_a_review_that_outlived_a_re_decision_says_the_person_decided():
    reviewed = _record(route="approve", reviewer="alice", final_decision="decline", reviewed_at="2026-12-04T21:55:46+00:00",
                       review_reason="no income evidence", overridden=True, suggested_decision="approve", review_source=None)
    lines = story(reviewed)
    assert any(line.endswith("the reviewer's decision stands over the policy's automatic approve of the decision that superseded it.") for line in lines)
    assert "Final decision: decline." in lines
    assert not any("stands over" in line for line in story(reviewed | {"route": "review"}))


def test_a_decision_its_day_no_longer_holds_says_none_stands():
    superseded_by = {
        "ledger_batch": 58, "recorded_at": "2026-12-04T23:29:30.475899+00:00", "source_file": "applications_2026-01-01.csv",
        "source_sha256": "03c796114c08" + "0" * 52, "decided": 97, "quarantined_rows": 3, "run_link": RUN_B,
    }
    lines = story(_record(superseded_by=superseded_by, final_decision=None))
    assert lines[1].startswith(
        "This decision no longer stands: the day was delivered again (applications_2026-01-01.csv sha256 03c796114c08…, "
        "recorded 2026-12-04 23:29:30 UTC, ledger batch 58) and A000030 was not decided in it"
    )
    assert "(97 decided, 3 rows quarantined;" in lines[1]
    assert "Final decision: none stands now." in lines
    assert not any("no longer stands" in line for line in story(_record()))


def test_a_later_delivery_of_the_same_id_is_told_as_set_aside():
    sent_again = [{"day": "2026-01-13", "source_file": "applications_2026-01-13.csv", "row_number": 101}]
    assert (
        "It was sent again and set aside, quarantined as received_on_another_day (an application is decided once): "
        "on 2026-01-13 in applications_2026-01-13.csv row 101."
    ) in story(_record(sent_again=sent_again))
    assert not any("sent again" in line for line in story(_record(sent_again=[])))
