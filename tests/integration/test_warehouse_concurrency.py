"""Two runs at once through the multiprocess executor on a real instance: no DuckDB lock error.

Every step that opens the warehouse is in the `warehouse` pool (limit 1 in
dagster.yaml), so steps of concurrent runs queue instead of colliding.
"""

import subprocess
import os

import pytest

from tests.integration.helpers import KEEL, keel, keel_json

pytestmark = pytest.mark.integration


def test_two_days_run_at_once_with_the_multiprocess_executor(tmp_path):
    home = tmp_path / "home"
    keel_json(home, "demo", "--days", "1")
    days = ["2026-01-02", "2026-01-03"]
    for day in days:
        keel(home, "land", "--date", day)
    env = {**os.environ, "KEEL_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    procs = [
        subprocess.Popen([KEEL, "run", "--date", day, "--executor", "multiprocess", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for day in days
    ]
    outputs = [proc.communicate(timeout=600) for proc in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, f"stdout:\n{out}\nstderr:\n{err}"
        assert "lock" not in err.lower()
    import json

    summaries = [json.loads(out) for out, _ in outputs]
    for summary in summaries:
        assert summary["received"] > 0
        assert summary["accepted"] == summary["decided_auto"] + summary["sent_to_review"]

    from dagster import DagsterInstance, DagsterRunStatus

    instance = DagsterInstance.from_config(str(home / "dagster"))
    runs = [instance.get_run_by_id(s["run_ids"][0]) for s in summaries]
    assert all(run.status == DagsterRunStatus.SUCCESS for run in runs)
    # The runs really overlapped in time, so the pool had something to do.
    stats = [instance.get_run_stats(run.run_id) for run in runs]
    assert stats[0].start_time < stats[1].end_time and stats[1].start_time < stats[0].end_time
