"""`keel demo` from an empty KEEL_HOME: history, first model, then live days through Dagster."""

import json

import pytest

from tests.integration.helpers import keel, keel_json

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo(demo_copy):
    return demo_copy


def test_every_row_is_accounted_for_each_day(demo):
    _home, summary = demo
    assert len(summary["days"]) == 3
    for day in summary["days"]:
        assert day["received"] > 0
        assert day["received"] == day["accepted"] + day["quarantined"] + day["duplicates"], day
        assert day["accepted"] == day["decided_auto"] + day["sent_to_review"], day
        assert day["model_version"] == summary["first_model_version"]
        assert day["run_ids"]
    assert summary["received"] == sum(d["received"] for d in summary["days"])


def test_rerunning_a_day_gives_the_same_summary_and_keeps_dbts_output_in_the_runs_logs(demo):
    home, summary = demo
    first = summary["days"][0]
    result = keel(home, "run", "--date", first["date"], "--json")
    again = json.loads(result.stdout)
    for key in ("received", "accepted", "quarantined", "duplicates", "decided_auto", "sent_to_review", "model_version"):
        assert again[key] == first[key], key
    # dbt's forty lines a day buried the day's summary on the terminal; the UI shows them in the step's stdout.
    assert "Running with dbt" not in result.stderr and "dbt_transform" not in result.stderr
    (run_id,) = again["run_ids"]
    captured = "".join(log.read_text() for log in (home / "dagster" / "storage" / run_id / "compute_logs").glob("*.out"))
    assert "Running with dbt" in captured and "Completed successfully" in captured


def test_a_day_with_nothing_landed_says_what_to_do(demo):
    home, _ = demo
    result = keel(home, "run", "--date", "2026-01-29", check=False)
    assert result.returncode != 0
    assert "keel land --date 2026-01-29" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_date_is_one_line(demo):
    home, _ = demo
    result = keel(home, "run", "--date", "2026-13-01", check=False)
    assert result.returncode != 0
    assert "not a real calendar date" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_empty_home_says_to_land_first(tmp_path):
    result = keel(tmp_path / "empty", "run", "--date", "2026-01-01", check=False)
    assert result.returncode != 0
    assert "nothing has landed" in result.stderr


def test_the_demo_on_a_home_that_has_run_refuses_at_once_or_skips_with_if_empty(demo):
    """A second `keel demo` retrained its first model on every outcome landed since and stopped at the gate."""
    home, summary = demo
    refused = keel(home, "demo", "--days", "2", check=False)
    assert refused.returncode == 1
    assert f"{home} already has runs: keel demo starts a home from scratch" in refused.stderr and "--if-empty" in refused.stderr
    skipped = keel_json(home, "demo", "--days", "2", "--if-empty")
    assert skipped == {"skipped": True, "home": str(home), "reason": "the instance already has runs"}
    again = keel_json(home, "run", "--date", summary["days"][0]["date"])
    assert again["model_version"] == summary["first_model_version"], "the home's champion is untouched"
