"""`keel status` on a demo home: the picture matches the warehouse, and each thing that needs a person is named.

The demo's days are in January, so its source is long overdue for the next
day and its queued cases are past their SLA: a demo home needs a person, and
says so, until a day lands.
"""

import json
import os
import time

import duckdb
import pytest

from tests.integration.helpers import keel, keel_json

pytestmark = pytest.mark.integration

NEXT_DAY, FAULTY_DAY = "2026-01-04", "2026-01-05"


def _status(home) -> tuple[int, dict]:
    result = keel(home, "status", "--json", check=False)
    return result.returncode, json.loads(result.stdout)


def _kinds(status: dict) -> list[str]:
    return [item["kind"] for item in status["attention"]]


def test_the_demo_home_shows_its_last_day_and_needs_a_person_for_the_overdue_source_and_reviews(demo_copy):
    home, summary = demo_copy
    code, status = _status(home)
    assert code == 1 and status["ok"] is False
    assert _kinds(status) == ["outage", "overdue_review"]
    assert status["source"]["date"] == NEXT_DAY and status["source"]["status"] == "outage"
    assert status["days_waiting"] == [] and status["days_decided"] == 3

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        decided, reviewed = con.execute(
            "select count(*), count(*) filter (where route = 'review') from decisioning.decisions where application_date = '2026-01-03'"
        ).fetchone()
        batches = con.execute("select count(*) from audit.ledger_batches").fetchone()[0]
        waiting = con.execute(
            "select count(*) from review.review_queue where application_id not in (select application_id from review.review_outcomes)"
            if con.execute("select count(*) from information_schema.tables where table_name = 'review_outcomes'").fetchone()[0]
            else "select count(*) from review.review_queue"
        ).fetchone()[0]
    last = status["last_decided_day"]
    assert (last["date"], last["decided"], last["review"]) == ("2026-01-03", decided, reviewed)
    assert status["ledger"]["batches"] == batches and status["ledger"]["last_day"] == "2026-01-03"
    # Queued on demo days in January: every case still waiting is past its SLA.
    assert status["review"]["waiting"] == status["review"]["overdue"] == waiting > 0
    assert status["models"]["champion"] == keel_json(home, "model", "list")["champion"] == summary["days"][-1]["model_version"]
    assert status["last_runs"]["daily_decisioning"]["partition"] == "2026-01-03"

    text = keel(home, "status", check=False)
    assert text.returncode == 1
    assert "needs a person (2):" in text.stdout and "next: `keel review list`" in text.stdout


def test_a_landed_day_waits_for_the_sensor_then_is_named_and_a_blocked_day_says_why(demo_copy):
    home, _summary = demo_copy
    keel(home, "land", "--date", NEXT_DAY)
    _code, status = _status(home)
    assert [(day["date"], day["state"]) for day in status["days_waiting"]] == [(NEXT_DAY, "landing")]
    assert status["source"]["status"] == "arrived"
    assert _kinds(status) == ["overdue_review"]

    landed = home / "landing" / "applications" / f"applications_{NEXT_DAY}.csv"
    old = time.time() - 600
    os.utime(landed, (old, old))  # no daemon here: nothing took the file in ten minutes
    _code, status = _status(home)
    [not_started] = [item for item in status["attention"] if item["kind"] == "day_not_started"]
    assert not_started["message"] == f"{NEXT_DAY}: its file landed 10 min ago and no run has taken it in"

    keel(home, "land", "--date", FAULTY_DAY, "--fault", "missing_required_column")
    keel(home, "run", "--date", FAULTY_DAY, check=False)
    _code, status = _status(home)
    waiting = {day["date"]: day for day in status["days_waiting"]}
    assert waiting[FAULTY_DAY]["state"] == "blocked"
    assert "required column 'income' is missing" in waiting[FAULTY_DAY]["reason"]
    assert _kinds(status) == ["outage", "day_not_started", "day_blocked", "overdue_review"]  # the next day after the blocked one is due too

    keel(home, "run", "--date", NEXT_DAY)
    _code, status = _status(home)
    assert [day["date"] for day in status["days_waiting"]] == [FAULTY_DAY]
    assert status["last_decided_day"]["date"] == NEXT_DAY

    # A decided day's file touched again, same content: nothing to do (the landing sensor ignores it too).
    os.utime(landed)
    _code, status = _status(home)
    assert [day["date"] for day in status["days_waiting"]] == [FAULTY_DAY]
    # Resent with other content: the landing sensor will decide it again.
    rows = landed.read_text().splitlines(keepends=True)
    landed.write_text("".join(rows[:-1]))
    _code, status = _status(home)
    assert [(day["date"], day["state"]) for day in status["days_waiting"]] == [(NEXT_DAY, "relanding"), (FAULTY_DAY, "blocked")]
    # Resent broken: its run is blocked, and the day's earlier decisions stand.
    keel(home, "land", "--date", NEXT_DAY, "--fault", "missing_required_column")
    keel(home, "run", "--date", NEXT_DAY, check=False)
    _code, status = _status(home)
    [rerun] = [item for item in status["attention"] if item["kind"] == "day_rerun_failed"]
    assert rerun["message"].startswith(f"{NEXT_DAY}: its latest run ") and "required column 'income' is missing" in rerun["message"]
    assert rerun["message"].endswith("the decisions of its earlier run stand")
    assert status["last_decided_day"]["date"] == NEXT_DAY and status["last_decided_day"]["decided"] == 100


def test_a_run_holding_the_warehouse_leaves_its_figures_out_instead_of_waiting_for_it(demo_copy):
    home, _summary = demo_copy
    with duckdb.connect(str(home / "warehouse.duckdb")):  # a writer, as a run's step is
        _code, status = _status(home)
        text = keel(home, "status", check=False).stdout
    assert status["warehouse_busy"] is True
    assert status["last_decided_day"] is None and status["source"] is None and status["days_waiting"] is None
    assert "day_not_started" not in _kinds(status)  # no landed day is judged undecided for want of the figures
    assert "waiting   not known: a run holds the warehouse" in text
