"""`keel bench` on a small day: the harness runs end to end and reports every figure (no timing asserted).

Timings are for docs/BENCHMARKS.md, measured on purpose; this only keeps the
harness from rotting: a real scaled day through the real daily job on a real
instance, the bare-script baseline, and the figures the JSON promises.
"""

import pytest

from tests.integration.helpers import KEEL, keel

pytestmark = pytest.mark.integration

ROWS = 2_000
DAILY_STEPS = {"raw_applications", "dbt_transform", "scores", "decisions", "review_queue", "decision_ledger", "daily_monitoring"}


def test_a_small_benchmark_day_reports_every_figure(tmp_path):
    import json

    # Imported here, not at collection: importing it registers the forkserver's import hook in this process.
    from keel.forkserver_warmup import IMPORTS_AFTER_FORK

    result = json.loads(keel(tmp_path / "unused-home", "bench", "--rows", str(ROWS), "--json", timeout=900).stdout)
    assert result["success"] and result["rows"] == ROWS
    for key in ("keel_s", "baseline_s", "ratio", "rows_per_s", "peak_rss_mb", "baseline_peak_rss_mb", "stages", "baseline_stages"):
        assert result[key], key
    assert DAILY_STEPS <= set(result["stages"]), sorted(result["stages"])
    assert sorted(result["steps_in_order"]) == sorted(result["stages"])
    # The forkserver's import schedule counts the daily job's steps in the order the executor forks them.
    for fork, step, _names in IMPORTS_AFTER_FORK:
        assert result["steps_in_order"][fork - 1] == step, (fork, result["steps_in_order"])
    assert set(result["baseline_stages"]) == {"read", "features", "score", "decide", "write"}
    assert 0 < result["first_step_after_s"] < result["keel_s"] - max(result["stages"].values())
    # One step at a time: each step after the first waited for its start; with the first's wait, within keel's time outside the steps.
    outside_steps = result["keel_s"] - sum(result["stages"].values())
    assert 0 < result["between_steps_s"] < outside_steps - result["first_step_after_s"] + 0.02
    assert result["ratio"] == pytest.approx(result["keel_s"] / result["baseline_s"], rel=0.01)
    # The tree sampler sees the step processes: more than the CLI process alone holds.
    assert result["peak_rss_mb"] >= result["peak_rss_one_process_mb"] > 100
    # Each step's peak is a sample taken while it ran: at most the run's peak, and the scoring step (seconds long) has one.
    assert set(result["stage_peak_rss_mb"]) == set(result["stages"])
    assert max(result["stage_peak_rss_mb"].values()) <= result["peak_rss_mb"]
    assert result["stage_peak_rss_mb"]["scores"] > 100
    # The split of keel's time against the script's is this run's own figures, adding up to keel_s.
    overhead = result["overhead"]
    assert overhead["around_scoring_s"] == pytest.approx(result["keel_s"] - result["stages"]["scores"], abs=0.01)
    assert overhead["outside_steps_s"] == pytest.approx(result["keel_s"] - sum(result["stages"].values()), abs=0.01)
    assert set(overhead["step_over_counterpart_s"]) == {"raw_applications", "dbt_transform", "scores", "decisions", "decision_ledger"}
    decided = result["decided"]
    assert decided["routed_approve"] + decided["routed_decline"] + decided["routed_review"] == ROWS


def test_an_unknown_executor_is_refused_before_any_work(tmp_path):
    import subprocess

    result = subprocess.run([KEEL, "bench", "--rows", "10", "--executor", "threads"], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "unknown executor 'threads'; expected multiprocess or in_process" in result.stderr + result.stdout
