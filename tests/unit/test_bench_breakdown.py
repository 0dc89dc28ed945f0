"""keel's extra time split against the bare script's (keel/bench/breakdown.py)."""

import pytest

from keel.bench.breakdown import COUNTERPART_STAGE, overhead_breakdown

# One 1M-row `keel bench --json` on 2026-12-03 at a88d116, the first of the
# fastest machine's five (docs/BENCHMARKS.md, "Figures").
KEEL_S = 42.19
STAGES = {
    "scores": 14.232,
    "raw_applications": 5.453,
    "decision_ledger": 5.321,
    "dbt_transform": 3.448,
    "daily_monitoring": 2.992,
    "decisions": 2.699,
    "application_features_feature_expectations": 2.553,
    "review_queue": 0.637,
    "raw_outcomes": 0.139,
}
BASELINE_S = 14.899
BASELINE_STAGES = {"read": 0.25, "features": 0.151, "score": 13.173, "decide": 1.074, "write": 0.251}


def test_each_side_less_its_scoring_and_keels_time_outside_any_step():
    split = overhead_breakdown(KEEL_S, STAGES, BASELINE_S, BASELINE_STAGES)
    assert split["around_scoring_s"] == pytest.approx(27.958)
    assert split["baseline_around_scoring_s"] == pytest.approx(1.726)
    assert split["outside_steps_s"] == pytest.approx(4.716)


def test_steps_that_do_a_stage_of_the_script_are_set_against_it_and_the_rest_summed():
    split = overhead_breakdown(KEEL_S, STAGES, BASELINE_S, BASELINE_STAGES)
    assert split["step_over_counterpart_s"] == {
        "raw_applications": pytest.approx(5.203),
        "decision_ledger": pytest.approx(5.07),
        "dbt_transform": pytest.approx(3.297),
        "decisions": pytest.approx(1.625),
        "scores": pytest.approx(1.059),
    }
    # Largest first: the order a reader looks for.
    assert list(split["step_over_counterpart_s"]) == ["raw_applications", "decision_ledger", "dbt_transform", "decisions", "scores"]
    assert split["steps_without_counterpart_s"] == pytest.approx(2.992 + 2.553 + 0.637 + 0.139)


def test_the_parts_add_up_to_keels_time_less_the_scripts_counterpart_stages():
    split = overhead_breakdown(KEEL_S, STAGES, BASELINE_S, BASELINE_STAGES)
    counterparts = sum(BASELINE_STAGES[stage] for stage in COUNTERPART_STAGE.values())
    parts = split["outside_steps_s"] + sum(split["step_over_counterpart_s"].values()) + split["steps_without_counterpart_s"]
    assert parts == pytest.approx(KEEL_S - counterparts, abs=0.01)


def test_a_step_the_daily_job_did_not_run_is_left_out_not_counted_as_zero():
    stages = {step: seconds for step, seconds in STAGES.items() if step != "decision_ledger"}
    split = overhead_breakdown(KEEL_S, stages, BASELINE_S, BASELINE_STAGES)
    assert "decision_ledger" not in split["step_over_counterpart_s"]


def test_a_run_without_its_scoring_step_is_refused_with_what_it_had():
    stages = {step: seconds for step, seconds in STAGES.items() if step != "scores"}
    with pytest.raises(ValueError, match="without its scoring: steps .*raw_applications"):
        overhead_breakdown(KEEL_S, stages, BASELINE_S, BASELINE_STAGES)
