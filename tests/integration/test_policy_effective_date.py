"""A policy version decides from its effective date on: merged ahead of it, it refuses the days before.

The policy is versioned with the code, so the new version lives in a copy of
the repository, as on the commit that brought it; keel runs from that copy.
"""

import duckdb
import pytest

from tests.integration.helpers import code_with_policy, keel, keel_json

pytestmark = pytest.mark.integration

BEFORE, EFFECTIVE = "2026-01-04", "2026-01-05"


def _decided(home, day: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "select policy_version, count(*) from decisioning.decisions where application_date = cast(? as date) group by 1", [day]
        ).fetchall()


def test_a_day_before_the_policy_takes_effect_is_refused_and_decided_later_under_the_version_in_force(demo_copy, tmp_path):
    home, _summary = demo_copy
    ahead = code_with_policy(tmp_path, version="1.1.0", effective_date=EFFECTIVE)
    keel(home, "land", "--date", BEFORE)

    refused = keel(home, "run", "--date", BEFORE, env=ahead, check=False)
    assert refused.returncode == 1
    assert f"{BEFORE}: FAILED" in refused.stdout
    assert f"decisions: PolicyNotInForce: {tmp_path / 'policies' / 'credit_policy.yaml'}: policy credit-decisioning 1.1.0 takes effect on {EFFECTIVE}" in refused.stdout
    assert f"cannot decide the applications of {BEFORE}" in refused.stdout
    assert _decided(home, BEFORE) == []
    assert "1.1.0" not in keel(home, "policy", "history").stdout
    # The operator's morning look names the day, its run and why it failed.
    [failed] = [item for item in keel_json(home, "status", check=False)["attention"] if item["kind"] == "day_failed"]
    assert failed["message"].startswith(f"{BEFORE}: its run ") and "failed: decisions: PolicyNotInForce" in failed["message"]
    assert failed["next_step"] == f"fix the cause, then `keel run --date {BEFORE}`"

    keel(home, "land", "--date", EFFECTIVE)
    keel(home, "run", "--date", EFFECTIVE, env=ahead)
    assert _decided(home, EFFECTIVE) == [("1.1.0", 100)]

    keel(home, "run", "--date", BEFORE)  # the version in force on that day: the repository's own
    assert _decided(home, BEFORE) == [("1.0.1", 100)]
