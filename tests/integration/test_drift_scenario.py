"""The drift scenario end to end: the data shifts, checks fail, one alert goes out, a candidate is trained and waits.

`keel demo --scenario drift` replays the real data and, from the first day
whose week-old outcomes have landed, lowers incomes, brings in a job category
never seen in training and turns some good repayments bad. The platform must
show it in the checks, alert once per incident (not once per day), start a
retraining whose candidate is evaluated but not promoted, and a drift sensor
starting afterwards must not alert again for what was already handled.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.integration.helpers import keel, keel_json

pytestmark = pytest.mark.integration

DAYS = 9
DRIFT_FROM = "2026-01-08"  # live day 8: the outcome delay (7 days) + 1


@pytest.fixture(scope="module")
def drifted(tmp_path_factory):
    home = tmp_path_factory.mktemp("drift") / "home"
    alert_file = home / "alerts-out.jsonl"
    result = keel(home, "demo", "--scenario", "drift", "--days", str(DAYS), "--json", timeout=1500, env={"KEEL_ALERT_FILE": str(alert_file)})
    return home, json.loads(result.stdout), alert_file


def test_the_drift_starts_where_the_outcomes_allow_a_retraining(drifted):
    _home, summary, _ = drifted
    assert summary["scenario"] == "drift" and summary["drift_from"] == DRIFT_FROM
    assert summary["days_run"] == DAYS and not summary["blocked_days"]


def test_drift_checks_fail_at_error_from_the_first_drifted_day(drifted):
    _home, summary, _ = drifted
    by_day = {day["date"]: day for day in summary["days"]}
    before = [c for c in by_day["2026-01-07"]["failed_checks"] if c["severity"] == "ERROR"]
    assert not before, before
    failing = {c["check"]: c for c in by_day[DRIFT_FROM]["failed_checks"] if c["severity"] == "ERROR"}
    assert "feature_drift:features_within_drift_thresholds" in failing
    assert "income" in failing["feature_drift:features_within_drift_thresholds"]["description"]


def test_one_alert_for_the_incident_naming_day_kind_and_features(drifted):
    _home, summary, alert_file = drifted
    drift_alerts = [a for a in summary["alerts"] if a["kind"] == "drift"]
    assert len(drift_alerts) == 1, "two drifted days are one incident: one alert"
    (alert,) = drift_alerts
    assert alert["day"] == DRIFT_FROM and {"income", "job"} <= set(alert["features"])
    lines = [json.loads(line) for line in alert_file.read_text().splitlines()]
    assert [line["incident"] for line in lines] == [a["incident"] for a in summary["alerts"]]
    assert lines[0]["webhook"] == "not configured"


def test_the_retraining_candidate_is_evaluated_and_not_promoted(drifted):
    home, summary, _ = drifted
    assert len(summary["candidate_models"]) == len(summary["alerts"])
    candidate = summary["candidate_models"][0]
    assert candidate["success"] and candidate["model_version"] and not candidate["promoted"]
    assert candidate["same_as_champion"] is False, "trained on the outcomes landed since: a new version"
    assert candidate["gate_passed"] in (True, False) and candidate["metrics"]
    listed = keel_json(home, "model", "list")
    champion = [v for v in listed["versions"] if "champion" in (v.get("aliases") or [])]
    assert [v["version"] for v in champion] == [summary["first_model_version"]]


def test_status_names_the_failing_drift_check_with_its_report_and_the_candidate_waiting(drifted):
    home, summary, _ = drifted
    status = keel_json(home, "status", check=False)
    last_day = summary["days"][-1]["date"]
    failed = [item for item in status["attention"] if item["kind"] == "failed_check"]
    [drift] = [item for item in failed if "feature_drift:features_within_drift_thresholds" in item["message"]]
    assert drift["message"].startswith(f"{last_day}: check feature_drift:features_within_drift_thresholds failed: {last_day}: ")
    assert "income (alert" in drift["message"]
    assert drift["next_step"].endswith(str(home / "reports" / "monitoring" / f"monitoring_{last_day}.html"))
    candidate = summary["candidate_models"][0]
    expected = "gate failed" if not candidate["gate_passed"] else "waiting for approval"
    assert status["models"]["candidates"] == [{"version": candidate["model_version"], "created_at": status["models"]["candidates"][0]["created_at"], "state": expected}]


def test_the_day_report_shows_the_drift(drifted):
    home, _summary, _ = drifted
    report = (home / "reports" / "monitoring" / f"monitoring_{DRIFT_FROM}.html").read_text()
    assert "income" in report and "alert" in report and "<img" in report


SENSOR_TICK = """
import json, time
import dagster as dg
from sensors.drift import drift_sensor
instance = dg.DagsterInstance.get()
started = time.perf_counter()
result = drift_sensor(dg.build_sensor_context(instance=instance, cursor=None))
print(json.dumps({"requests": len(result.run_requests or []), "skip": result.skip_reason.skip_message if result.skip_reason else None, "seconds": time.perf_counter() - started}))
"""


def test_a_drift_sensor_starting_later_does_not_alert_twice(drifted):
    home, _summary, alert_file = drifted
    env_home = {"KEEL_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "KEEL_ALERT_FILE": str(alert_file)}
    before = alert_file.read_text()
    done = subprocess.run([sys.executable, "-c", SENSOR_TICK], env={**os.environ, **env_home}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    tick = json.loads(done.stdout.strip().splitlines()[-1])
    assert tick["requests"] == 0 and "no new" in tick["skip"], tick
    assert alert_file.read_text() == before


def test_the_real_data_without_drift_raises_no_alert(demo_template):
    _home, summary = demo_template
    assert summary["scenario"] == "none" and summary["alerts"] == [] and summary["candidate_models"] == []
