"""With the champion's artifact missing or altered, the day is still decided — by the policy's fallback rules.

The UI shows it as a failed model_available check on scores, not as a crashed
run; every decision is marked model_unavailable and names the fallback.
"""

import json

import pytest

from tests.integration.helpers import keel, keel_json

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def home(demo_copy):
    home, _ = demo_copy
    return home


def _champion_artifact(home):
    champion = keel_json(home, "model", "list")["champion"]
    listed = {v["version"]: v for v in keel_json(home, "model", "list")["versions"]}
    return champion, home / "models" / f"{listed[champion]['artifact_sha256']}.skops"


def _decisions(home, day):
    import duckdb

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "select route, decided_by, model_unavailable, reason_codes from decisioning.decisions where cast(application_date as date) = ?",
            [day],
        ).fetchall()


@pytest.mark.parametrize(("day", "damage"), [("2026-01-04", "altered"), ("2026-01-05", "missing")])
def test_a_broken_model_artifact_falls_back_to_the_rules(home, day, damage):
    champion, artifact = _champion_artifact(home)
    original = artifact.read_bytes()
    try:
        if damage == "altered":
            artifact.write_bytes(original[:-10] + b"0123456789")
        else:
            artifact.unlink()
        keel(home, "land", "--date", day)
        completed = keel(home, "run", "--date", day, "--json", check=False)
    finally:
        artifact.write_bytes(original)
    summary = json.loads(completed.stdout)
    assert "Traceback" not in completed.stderr
    assert completed.returncode == 0, "a day decided by the fallback rules is a success with a failed check, not a crash"
    assert summary["accepted"] == 100 and summary["decided_by_fallback"] == 100
    assert summary["decided_auto"] + summary["sent_to_review"] == 100
    (check,) = [c for c in summary["failed_checks"] if c["check"] == "scores:model_available"]
    assert check["severity"] == "ERROR" and champion in check["description"]
    expected = "sha256" if damage == "altered" else "missing"
    assert expected in check["description"].lower() or "hash" in check["description"].lower()
    rows = _decisions(home, day)
    assert len(rows) == 100 and all(unavailable for _route, _by, unavailable, _codes in rows)
    assert all("MODEL_UNAVAILABLE" in codes or "FALLBACK" in codes.upper() for _r, _b, _u, codes in rows)
