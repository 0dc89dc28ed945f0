"""Told without anyone asking: a failed run, a source outage and review cases past their SLA each alert once, through
Dagster's own ticks; a run whose process was killed is failed and alerted like any other.

Each sensor is evaluated as the daemon evaluates it (`evaluate_tick` over the
home's real instance, its cursor carried from tick to tick); the failed run
is a real `keel run` of a day whose file the contract refuses, the outage a
real run of the freshness job over a demo home whose next day never came,
the review cases the demo's own queue, due in January.
"""

import json
from collections import Counter

import dagster as dg
import pytest

from keel.alerts import read_alerts
from sensors.review_sla import review_sla_sensor
from sensors.run_failures import abandoned_run_sensor, run_failure_sensor
from sensors.source_outage import source_outage_sensor
from tests.integration.helpers import instance_of, keel, keel_json, killed_keel_run, warehouse_held

pytestmark = pytest.mark.integration

# The demo fixture ran 2026-01-01 .. 03: the next day is overdue, until the second test lands it blocked.
OUTAGE_DAY = BLOCKED_DAY = "2026-01-04"


def test_a_source_outage_is_alerted_once_per_day_however_many_hourly_checks_find_it(demo_copy, monkeypatch, tmp_path):
    home, _ = demo_copy
    instance = instance_of(home, monkeypatch)
    alerts = tmp_path / "alerts.jsonl"
    monkeypatch.setenv("KEEL_ALERT_FILE", str(alerts))

    def tick(cursor):
        return source_outage_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))

    # The demo's history run judged the delivery of its own days, all in: not an outage of a day in the middle of it.
    before = tick(None)
    assert before.skip_message.endswith("delivered or not due yet") and read_alerts(alerts) == []
    # The demo's days are in January: the file of the day after its last is long overdue.
    assert keel(home, "freshness", check=False).returncode == 1
    first = tick(None)
    [alert] = read_alerts(alerts)
    assert (alert["kind"], alert["incident"]) == ("source_outage", f"source_outage:{OUTAGE_DAY}")
    assert alert["details"][0].startswith(f"source outage: applications for {OUTAGE_DAY} was due by")
    assert alert["next_step"].startswith("ask the source to deliver it") and alert["text"].startswith("keel: source outage: applications for")
    assert keel(home, "freshness", check=False).returncode == 1  # the next hour's check
    second = tick(first.cursor)
    assert "alerted already" in second.skip_message and len(read_alerts(alerts)) == 1


def test_a_blocked_day_is_alerted_once_with_the_contracts_reason_and_what_to_do(demo_copy, monkeypatch):
    import definitions

    home, _ = demo_copy
    instance = instance_of(home, monkeypatch)
    monkeypatch.delenv("KEEL_ALERT_FILE", raising=False)
    monkeypatch.delenv("KEEL_ALERT_WEBHOOK", raising=False)
    alerts = home / "reports" / "alerts.jsonl"

    def tick(cursor):
        context = dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=definitions.defs.get_repository_def())
        return run_failure_sensor.evaluate_tick(context)

    first = tick(None)  # the daemon's first tick: failures from here on
    assert read_alerts(alerts) == []
    keel(home, "land", "--date", BLOCKED_DAY, "--fault", "missing_required_column")
    completed = keel(home, "run", "--date", BLOCKED_DAY, "--json", check=False)
    assert completed.returncode == 1, "a blocked day exits non-zero, after printing its summary"
    summary = json.loads(completed.stdout)
    assert summary["blocked"] is True and summary["failure"].startswith("day blocked:")
    [failed] = instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]), limit=1)

    second = tick(first.cursor)
    [alert] = read_alerts(alerts)
    assert (alert["kind"], alert["day"], alert["job"], alert["run_id"]) == ("day_blocked", BLOCKED_DAY, "daily_decisioning", failed.dagster_run.run_id)
    assert alert["details"][0].startswith(f"applications_{BLOCKED_DAY}.csv: required column 'income' is missing")
    assert alert["next_step"].startswith("ask the source to resend the file")
    assert alert["run_url"].endswith(f"/runs/{failed.dagster_run.run_id}") and alert["webhook"] == "not configured"
    assert alert["text"].startswith(f"keel: {BLOCKED_DAY} blocked: applications_{BLOCKED_DAY}.csv")

    tick(second.cursor)
    assert len(read_alerts(alerts)) == 1, "a failure is alerted once, however many ticks follow"


def test_review_cases_past_their_sla_are_alerted_once_per_day_and_a_busy_warehouse_waits_for_the_next_tick(demo_copy, monkeypatch, tmp_path):
    home, _ = demo_copy
    instance = instance_of(home, monkeypatch)
    alerts = tmp_path / "alerts.jsonl"
    monkeypatch.setenv("KEEL_ALERT_FILE", str(alerts))

    def tick(cursor):
        return review_sla_sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))

    cases = keel_json(home, "review", "list")["cases"]
    overdue_by_day = Counter(case["application_date"] for case in cases if case["overdue"])
    assert sorted(overdue_by_day) == ["2026-01-01", "2026-01-02", "2026-01-03"]

    first = tick(None)  # the daemon's first tick over a queue already overdue: one alert for the days it finds
    [alert] = read_alerts(alerts)
    assert (alert["kind"], alert["incident"], alert["days"]) == ("review_overdue", "review_overdue:2026-01-01..2026-01-03", sorted(overdue_by_day))
    assert alert["cases"] == alert["overdue_cases"] == sum(overdue_by_day.values())
    due_by = {case["application_date"]: case["due_by"] for case in cases}
    assert alert["details"] == [f"{day}: {count} case(s) due by {due_by[day]}" for day, count in sorted(overdue_by_day.items())]
    assert alert["next_step"].startswith("`keel review list`") and alert["webhook"] == "not configured"

    second = tick(first.cursor)
    assert second.skip_message.endswith("3 day(s) past due alerted already") and len(read_alerts(alerts)) == 1

    # A run holding the warehouse (another process writing it): the tick skips and keeps the cursor it had.
    with warehouse_held(home):
        busy = tick(second.cursor)
    assert busy.skip_message.startswith("a run holds the warehouse") and busy.cursor == second.cursor
    assert len(read_alerts(alerts)) == 1


def test_a_run_whose_process_was_killed_is_failed_by_the_daemon_and_alerted_with_why(demo_copy, monkeypatch, tmp_path):
    import definitions

    home, _ = demo_copy
    instance = instance_of(home, monkeypatch)
    alerts = tmp_path / "alerts.jsonl"
    monkeypatch.setenv("KEEL_ALERT_FILE", str(alerts))
    day = "2026-01-05"

    def failure_tick(cursor):
        context = dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=definitions.defs.get_repository_def())
        return run_failure_sensor.evaluate_tick(context)

    def abandoned_tick():
        return abandoned_run_sensor.evaluate_tick(dg.build_sensor_context(instance=instance))

    failures_from_here = failure_tick(None)
    keel(home, "land", "--date", day)
    run_id, pid = killed_keel_run(home, day, instance)
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED

    released = abandoned_tick()
    assert released.skip_message == f"1 run(s) whose process was gone marked failed: {run_id}"
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    assert run_id not in instance.event_log_storage.get_concurrency_run_ids()
    assert abandoned_tick().skip_message == "every started run's process is there"

    failure_tick(failures_from_here.cursor)
    [alert] = read_alerts(alerts)
    assert (alert["kind"], alert["day"], alert["run_id"]) == ("run_failed", day, run_id)
    assert alert["details"][0].startswith(f"its process (pid {pid}, running it since ")
    assert alert["next_step"] == f"fix the cause, then `keel run --date {day}`"
