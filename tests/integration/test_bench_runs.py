"""`keel bench-runs`: the step times of a home's runs, read from its Dagster instance."""

import dagster as dg

from keel.home import KeelHome
from keel.orchestrate import instance_for
from tests.integration.helpers import keel, keel_json


def test_bench_runs_reads_every_successful_daily_run_and_its_steps(demo_template):
    home, summary = demo_template
    instance = instance_for(KeelHome(home))
    daily = instance.get_runs(filters=dg.RunsFilter(job_name="daily_decisioning", statuses=[dg.DagsterRunStatus.SUCCESS]))
    result = keel_json(home, "bench-runs")
    assert result["runs"] == len(daily) > len(summary["days"])  # the live days and the history's runs
    assert set(result["run_ids"]) == {run.run_id for run in daily}
    dbt = result["steps"]["dbt_transform"]
    assert dbt["runs"] == len(daily) and 0 < dbt["median"] <= dbt["max"] <= result["run_s"]["max"]
    # The live days score and decide; the history's runs do not.
    assert result["steps"]["decisions"]["runs"] == len(summary["days"])
    last = keel_json(home, "bench-runs", "--last", "2")
    assert last["run_ids"] == result["run_ids"][-2:]
    assert "dbt_transform" in keel(home, "bench-runs").stdout


def test_bench_runs_of_a_job_that_never_ran_says_so(demo_template):
    home, _ = demo_template
    assert keel_json(home, "bench-runs", "--job", "no_such_job")["runs"] == 0
    assert "no successful runs of no_such_job" in keel(home, "bench-runs", "--job", "no_such_job").stdout
