"""`keel run` with several `--date`s: the days a contract change or an outage left to run, in one command.

Each day is its own run, oldest first, once every day is found landed; a
blocked day does not stop the next one. `keel status` gives the command.
"""

import json
import os
import re
import time

import duckdb
import pytest

from tests.integration.helpers import instance_of, keel, keel_json

pytestmark = pytest.mark.integration

DAYS = ("2026-01-04", "2026-01-05", "2026-01-06")
BLOCKED = "2026-01-05"


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
