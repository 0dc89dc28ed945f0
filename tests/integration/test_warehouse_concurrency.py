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
        # Dagster's DEBUG events (a step worker started, ...) stay in the event log, off the terminal.
        assert " - DEBUG - " not in err, err
    import json

    summaries = [json.loads(out) for out, _ in outputs]
    for summary in summaries:
        assert summary["received"] > 0
        assert summary["accepted"] == summary["decided_auto"] + summary["sent_to_review"]

    from dagster import DagsterInstance, DagsterRunStatus

    instance = DagsterInstance.from_config(str(home / "dagster"))
    runs = [instance.get_run_by_id(s["run_ids"][0]) for s in summaries]
    assert all(run.status == DagsterRunStatus.SUCCESS for run in runs)
    for run in runs:
        recorded = {entry.dagster_event.event_type_value for entry in instance.all_logs(run.run_id) if entry.dagster_event}
        assert {"STEP_WORKER_STARTED", "STEP_START", "STEP_SUCCESS"} <= recorded
    # The runs really overlapped in time, so the pool had something to do.
    stats = [instance.get_run_stats(run.run_id) for run in runs]
    assert stats[0].start_time < stats[1].end_time and stats[1].start_time < stats[0].end_time


def test_dbt_waits_for_a_reader_in_another_process_instead_of_failing(tmp_path):
    import sys
    from pathlib import Path

    import duckdb

    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    # A `keel` command reading the warehouse holds its lock for a few seconds.
    hold = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); print('held', flush=True); time.sleep(4)"
    reader = subprocess.Popen([sys.executable, "-c", hold, str(warehouse)], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "held"
        project = Path(__file__).resolve().parents[2] / "dbt_project"
        dbt = subprocess.run(
            [str(Path(sys.executable).parent / "dbt"), "debug", "--project-dir", str(project), "--profiles-dir", str(project), "--log-path", str(tmp_path / "logs")],
            env={**os.environ, "KEEL_WAREHOUSE": str(warehouse)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        # dbt connected once the reader let go: it did not fail on the lock.
        assert reader.poll() is not None
    finally:
        reader.kill()
        reader.wait()
    assert dbt.returncode == 0, dbt.stdout + dbt.stderr
    assert "OK connection ok" in dbt.stdout
