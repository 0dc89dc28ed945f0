"""`keel run` with several `--date`s: the days a contract change or an outage left to run, in one command.

Each day is its own run, oldest first, once every day is found landed and
none is running already; a blocked day does not stop the next one. `keel
status` gives the command.
"""

import json
import os
import re
import signal
import time

import dagster as dg
import duckdb
import psutil
import pytest

from keel.orchestrate import run_under_way
from tests.integration.helpers import (
    instance_of,
    keel,
    keel_json,
    killed_keel_run,
    processes_in_session,
    run_at_its_first_step,
    start_keel,
    wait_for,
    warehouse_held,
)

pytestmark = pytest.mark.integration

DAYS = ("2026-01-04", "2026-01-05", "2026-01-06")
BLOCKED = "2026-01-05"


def _land(home, *days: str) -> None:
    """Land `days` (again: the demo's files of a day are the same bytes each time), so that a test run alone has them."""
    for day in days:
        keel(home, "land", "--date", day)


def _decided_days(home) -> list[str]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return [day for (day,) in con.execute("select distinct strftime(application_date, '%Y-%m-%d') from decisioning.decisions order by 1").fetchall()]


def test_several_days_run_oldest_first_each_its_own_run_and_a_blocked_one_does_not_stop_the_next(demo_copy, monkeypatch):
    home, _ = demo_copy
    landed_long_ago = time.time() - 600  # no daemon here: nothing took the files in ten minutes
    for day in DAYS:
        [path] = keel_json(home, "land", "--date", day, *(["--fault", "missing_required_column"] if day == BLOCKED else []))["files"]
        os.utime(path, (landed_long_ago, landed_long_ago))
    # `keel status` names each day, and the one command that runs them all.
    status = keel(home, "status", check=False).stdout
    [suggested] = re.findall(r"run them in one go: `([^`]+)`", status)
    assert suggested == f"keel run --date {DAYS[0]} --date {DAYS[1]} --date {DAYS[2]}"

    # A day with nothing landed is named before any day runs.
    refused = keel(home, "run", "--date", DAYS[0], "--date", "2026-01-09", check=False)
    assert refused.returncode == 1 and "no applications file has landed for 2026-01-09" in refused.stderr
    assert _decided_days(home) == ["2026-01-01", "2026-01-02", "2026-01-03"]

    completed = keel(home, "run", "--date", DAYS[2], "--date", DAYS[1], "--date", DAYS[0], "--date", DAYS[2], "--json", check=False)
    result = json.loads(completed.stdout)
    assert completed.returncode == 1, "a blocked day makes the command fail, after the days after it ran"
    assert [day["date"] for day in result["days"]] == list(DAYS) and result["days_run"] == 3
    assert result["blocked_days"] == result["failed_days"] == [BLOCKED] and result["success"] is False
    assert [day["success"] for day in result["days"]] == [True, False, True]
    assert result["received"] == sum(day["received"] for day in result["days"]) == 300
    assert result["decided_auto"] + result["sent_to_review"] == 200
    assert _decided_days(home) == ["2026-01-01", "2026-01-02", "2026-01-03", DAYS[0], DAYS[2]]
    with instance_of(home, monkeypatch) as instance:
        runs = [instance.get_run_record_by_id(run_id) for run_id in result["run_ids"]]
    assert [run.dagster_run.tags["dagster/partition"] for run in runs] == list(DAYS)
    starts = [run.start_time for run in runs]
    assert starts == sorted(starts) and len(set(result["run_ids"])) == 3, "one run per day, oldest first"

    # The command as `keel status` gave it, run again: the blocked day is still blocked, the others decided as before.
    text = keel(home, *suggested.split()[1:], check=False)
    assert text.returncode == 1
    lines = text.stdout.splitlines()
    assert lines[0].startswith(f"{DAYS[0]}: ok  received 100") and lines[-1].startswith("total: received 300")
    assert [line.split("  ")[0] for line in lines if line.startswith("2026")] == [f"{DAYS[0]}: ok", f"{DAYS[1]}: BLOCKED", f"{DAYS[2]}: ok"]


def _decision_batches(home, day: str) -> int:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("select count(*) from audit.ledger_batches where ledger_day = ? and event_type = 'decision'", [day]).fetchall()[0][0]


def _runs_of(instance, day: str) -> list:
    return instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": day}))


def test_a_day_whose_run_is_under_way_is_not_run_again_beside_it(demo_copy, monkeypatch):
    home, _ = demo_copy
    day, other = DAYS[0], DAYS[2]  # both decided above; running one again is a rerun
    batches_before = _decision_batches(home, day)
    instance = instance_of(home, monkeypatch)
    other_runs = len(_runs_of(instance, other))
    # Another process holds the warehouse, so the first run waits at its first step, under way, as long as the test needs.
    with warehouse_held(home):
        first = start_keel(home, "run", "--date", day, "--json")
        run_id = wait_for(lambda: run_under_way(instance, day), "the first run started").dagster_run.run_id

        second = keel(home, "run", "--date", day, check=False)
        assert second.returncode == 1
        assert f"{day}: run {run_id} of daily_decisioning is started (started by cli, since " in second.stderr
        assert f"/runs/{run_id}" in second.stderr
        # With several days the day under way is found before any day runs.
        several = keel(home, "run", "--date", other, "--date", day, check=False)
        assert several.returncode == 1 and f"{day}: run {run_id} of daily_decisioning is started" in several.stderr
        assert len(_runs_of(instance, other)) == other_runs, "no day of the list ran"
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert json.loads(stdout)["run_ids"] == [run_id]
    assert _decision_batches(home, day) == batches_before + 1, "one run of the day, one ledger batch"


def test_a_run_whose_process_was_killed_is_marked_failed_and_gives_the_warehouse_back(demo_copy, monkeypatch):
    """kill -9 leaves a run STARTED, holding the warehouse pool's one slot: every later run would wait for it, for ever."""
    home, _ = demo_copy
    day, other = DAYS[0], DAYS[2]
    _land(home, day, other)
    instance = instance_of(home, monkeypatch)
    run_id, pid = killed_keel_run(home, day, instance)
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED, "nothing in Dagster fails it by itself"
    assert run_id in instance.event_log_storage.get_concurrency_run_ids()

    # Another day's run starts by marking it failed; kept waiting for its slot, it would run past the timeout.
    next_run = keel(home, "run", "--date", other, timeout=300)
    assert f"keel: run {run_id} of daily_decisioning of {day}: its process (pid {pid}, running it since " in next_run.stderr
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    assert run_id not in instance.event_log_storage.get_concurrency_run_ids()

    # keel status says why the day's run failed; the day runs again.
    status = keel_json(home, "status", check=False)
    [waiting] = [entry for entry in status["days_waiting"] if entry["date"] == day]
    assert waiting["run_id"] == run_id and waiting["reason"].startswith(f"its process (pid {pid}, running it since ")
    assert "(killed, or the machine stopped): marked failed and its pool slots given back" in waiting["reason"]
    again = keel_json(home, "run", "--date", day)
    assert again["success"] and again["run_ids"] != [run_id]


def test_no_step_of_a_multiprocess_run_goes_on_after_the_run_s_process_is_killed(demo_copy, monkeypatch):
    """A step left running wrote to the warehouse with no process left to record it in its run (keel.forkserver_steps).

    The run's first step waits for the warehouse another process holds. Before
    keel asked the kernel to end the executor's forkserver and its steps with
    that process, the step went on waiting, and ingested the day once the
    warehouse was free: 100 rows of a run whose process was gone.
    """
    home, _ = demo_copy
    day = "2026-01-07"  # a day no other test of this module lands or runs
    _land(home, day)
    instance = instance_of(home, monkeypatch)
    process = None
    try:
        with warehouse_held(home):
            process = start_keel(home, "run", "--date", day, "--executor", "multiprocess", start_new_session=True)
            wait_for(lambda: run_at_its_first_step(instance, day), f"the run of {day} reached its first step")
            assert any("forkserver" in command for command in processes_in_session(process.pid)), "the step runs in a forked process"
            process.kill()
            process.wait()
            left = processes_in_session(process.pid)
            deadline = time.monotonic() + 30
            while left and time.monotonic() < deadline:
                time.sleep(0.5)
                left = processes_in_session(process.pid)
            assert not left, "processes of the killed run went on for 30 s with the warehouse still held:\n" + "\n".join(left)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        [(ingested,)] = con.execute("select count(*) from raw.applications where partition_date = ?", [day]).fetchall()
    assert ingested == 0, f"{ingested} applications of {day} ingested after the run's process was killed"


def test_a_run_waiting_for_the_warehouse_pool_does_not_spin_a_core(demo_copy, monkeypatch):
    """Dagster's executors ask again at once for a slot refused (keel.pool_wait naps instead): 99% of a core measured before."""
    home, _ = demo_copy
    first_day, waiting_day = DAYS[0], DAYS[2]
    _land(home, first_day, waiting_day)
    instance = instance_of(home, monkeypatch)
    first = waiting = None
    try:
        with warehouse_held(home):
            first = start_keel(home, "run", "--date", first_day)
            wait_for(lambda: run_at_its_first_step(instance, first_day), "the first run reached its first step")
            # As the daemon runs it: steps in processes of their own, ordered by a process that waits for the pool.
            waiting = start_keel(home, "run", "--date", waiting_day, "--executor", "multiprocess")
            run_id = wait_for(lambda: _waiting_for_the_pool(instance, waiting_day), "the second run asked for the pool")
            orchestrator = psutil.Process(waiting.pid)
            before = sum(orchestrator.cpu_times()[:2])
            time.sleep(5)
            busy = sum(orchestrator.cpu_times()[:2]) - before
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED, "still waiting when measured"
        print(f"the run waiting for the pool: {busy:.2f} s of CPU in 5 s")
        assert busy < 1.0, f"the waiting run used {busy:.2f} s of CPU in 5 s"
        assert first.wait(timeout=300) == 0 and waiting.wait(timeout=300) == 0, "both days run once the warehouse is free"
    finally:
        for process in (first, waiting):
            if process is not None and process.poll() is None:
                process.kill()


def _waiting_for_the_pool(instance, day: str) -> str | None:
    """The run of `day` under way, once it has asked for a pool slot (Dagster keeps a claim refused as pending)."""
    under_way = run_under_way(instance, day)
    if under_way and under_way.dagster_run.run_id in instance.event_log_storage.get_concurrency_run_ids():
        return under_way.dagster_run.run_id
    return None


@pytest.mark.parametrize(("executor", "first", "second"), [("in_process", "2026-01-08", "2026-01-10"), ("multiprocess", "2026-01-11", "2026-01-12")])
def test_ctrl_c_stops_the_run_under_way_and_the_days_after_it(demo_copy, monkeypatch, executor, first, second):
    """Dagster turns Ctrl-C into a failed run and returns as from any failure.

    Before keel raised it again (keel.orchestrate.RunInterrupted), `keel run`
    went on to the next day, exited 1, and Dagster's helpers watching each
    step's log mirroring printed a traceback each on the terminal
    (keel.log_mirror_watchers).
    """
    home, _ = demo_copy
    _land(home, first, second)
    instance = instance_of(home, monkeypatch)
    process = None
    try:
        with warehouse_held(home):  # the run waits in its first step, where Ctrl-C finds it
            process = start_keel(home, "run", "--date", first, "--date", second, "--executor", executor, start_new_session=True)
            run_id = wait_for(lambda: run_at_its_first_step(instance, first), f"the run of {first} reached its first step")
            os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C: to every process of the foreground group
            _, stderr = process.communicate(timeout=120)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert f"keel: interrupted: the run of daily_decisioning for {first} stopped during raw_applications and is marked failed" in stderr
    assert f"/runs/{run_id}" in stderr
    assert f"to run it and the days after it, which did not run: keel run --date {first} --date {second}" in stderr
    assert "Traceback" not in stderr, stderr
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    assert not _runs_of(instance, second), f"{second} ran after Ctrl-C"
