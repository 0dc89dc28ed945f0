"""Any past day replays byte for byte; a changed input or an altered record is named, not hidden."""

import json

import duckdb
import pytest

from tests.integration.helpers import keel

pytestmark = pytest.mark.integration

DAYS = ["2026-01-01", "2026-01-02", "2026-01-03"]


@pytest.fixture(scope="module")
def home(demo_copy):
    home, _ = demo_copy
    return home


@pytest.mark.parametrize("day", DAYS)
def test_every_demo_day_replays_to_a_match(home, day):
    completed = keel(home, "replay", day, "--json", check=False)
    result = json.loads(completed.stdout)
    assert completed.returncode == 0 and result["match"], result["differences"][:5]
    assert result["rows_recorded"] == result["rows_replayed"] == 100
    assert result["recorded_versions"]["source_file"] == f"applications_{day}.csv"


def test_a_replay_takes_the_day_as_keel_run_does_and_says_match(home):
    """`--date`, as `keel run` and `keel land` take the day; one day, since each replay re-runs it (~30 s)."""
    day = DAYS[0]
    assert keel(home, "replay", "--date", day).stdout.startswith(f"MATCH {day}")


def test_an_altered_ledger_row_is_named_with_its_column(home):
    day = DAYS[1]
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        victim = con.execute("select min(application_id) from audit.decision_ledger where ledger_day = ?", [day]).fetchone()[0]
        con.execute("update audit.decision_ledger set score = '0.01' where application_id = ? and ledger_day = ?", [victim, day])
    completed = keel(home, "replay", day, "--json", check=False)
    result = json.loads(completed.stdout)
    assert completed.returncode == 1 and not result["match"]
    assert [(d["application_id"], d["column"], d["recorded"]) for d in result["differences"]] == [(victim, "score", "0.01")]
    text = keel(home, "replay", day, check=False).stdout
    assert text.startswith(f"DIFFERENT {day}") and victim in text and "score" in text
    verified = keel(home, "audit", "verify", "--json", check=False)
    assert verified.returncode == 1 and json.loads(verified.stdout)["first_broken_day"] == day


def test_a_changed_landing_file_is_refused_until_the_day_is_decided_again(home):
    day = DAYS[2]
    landed = home / "landing" / "applications" / f"applications_{day}.csv"
    original = landed.read_text()
    changed_id = original[: original.index("rent")].splitlines()[-1].split(",")[0]
    landed.write_text(original.replace("rent", "owner", 1))
    completed = keel(home, "replay", day, check=False)
    assert completed.returncode == 1
    assert f"applications_{day}.csv has changed since it was decided" in completed.stderr + completed.stdout

    # Decided again on the replaced file (what the landing sensor does): the new decision stands, the old one is on record.
    keel(home, "run", "--date", day)
    record = json.loads(keel(home, "explain", changed_id, "--json").stdout)
    assert record["source_sha256"] != record["earlier_decisions"][0]["source_sha256"]
    assert len(record["earlier_decisions"]) == 1 and record["earlier_decisions"][0]["ledger_batch"] < record["ledger_batch"]
    assert record["earlier_decisions"][0]["row_changed_since"]
    assert record["raw_values"]["home"] == "owner"
    story = keel(home, "explain", changed_id).stdout
    assert "It was decided 2 times; the latest superseded the earlier ones:" in story
    assert json.loads(keel(home, "replay", day, "--json", check=False).stdout)["match"]


def test_an_application_its_day_no_longer_decides_is_told_as_not_standing(home):
    day = DAYS[0]
    keel(home, "land", "--date", day, "--fault", "out_of_range")
    keel(home, "run", "--date", day)
    landed = (home / "landing" / "applications" / f"applications_{day}.csv").read_text().splitlines()
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        row = con.execute("select min(row_number) from raw.applications_quarantine where partition_date = ?", [day]).fetchone()[0]
    quarantined_id = landed[row].split(",")[0]  # line 0 is the header, so the file's row N is line N
    record = json.loads(keel(home, "explain", quarantined_id, "--json").stdout)
    assert not record["stands"] and record["final_decision"] is None
    assert record["superseded_by"]["decided"] < 100 and record["superseded_by"]["quarantined_rows"] >= 1
    story = keel(home, "explain", quarantined_id).stdout
    assert "This decision no longer stands: the day was delivered again" in story and "Final decision: none stands now." in story
    kept_id = next(line.split(",")[0] for line in landed[1:] if line.split(",")[0] != quarantined_id)
    assert json.loads(keel(home, "explain", kept_id, "--json").stdout)["stands"]
