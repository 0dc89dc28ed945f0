"""A day on which the policy lets the challenger decide a share: the record says which model decided, and the day replays.

The policy is read from the repository's policies/ (it is versioned with the
code), so the rollout policy lives in a copy of the repository, as it would
on the commit that raised the share; keel runs from that copy.
"""

import json

import duckdb
import pandas as pd
import pytest
import yaml

from keel.decisioning import in_rollout
from keel.home import REPO_ROOT
from tests.integration.helpers import code_with_policy, copy_home, keel, keel_json

pytestmark = pytest.mark.integration

DAY = "2026-01-09"
SHARE = 0.5


def _code_with_rollout(target):
    """A copy of the code whose policy (version 1.1.0) lets the challenger decide SHARE of applications."""
    rollout = yaml.safe_load((REPO_ROOT / "policies" / "credit_policy.yaml").read_text())["rollout"]
    return code_with_policy(target, version="1.1.0", rollout={**rollout, "challenger_share": SHARE})


@pytest.fixture(scope="module")
def rollout_day(demo_template, tmp_path_factory):
    template, summary = demo_template
    home = tmp_path_factory.mktemp("rollout") / "home"
    copy_home(template, home)
    keel(home, "land", "--date", "2026-01-08")  # outcomes of 2026-01-01 land: a candidate that differs from the champion
    keel(home, "run", "--date", "2026-01-08")
    challenger = keel_json(home, "model", "train")["version"]
    keel(home, "model", "approve", challenger, "--by", "risk-officer", "--reason", "gate and segments reviewed")
    keel(home, "model", "set-challenger", challenger, "--by", "risk-officer", "--reason", "decide half of the applications")
    code = _code_with_rollout(tmp_path_factory.mktemp("code"))
    keel(home, "land", "--date", DAY)
    keel(home, "run", "--date", DAY, env=code)
    return home, code, summary["first_model_version"], challenger


def _day(home, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql, [DAY]).fetchall()


def test_the_ledger_records_the_model_and_score_each_decision_was_routed_on(rollout_day):
    home, _code, champion, challenger = rollout_day
    rows = _day(
        home,
        "select l.application_id, l.model_version, cast(l.score as double), s.model_version, s.p_bad, s.challenger_p_bad "
        "from audit.decision_ledger l join decisioning.scores s using (application_id) "
        "where l.ledger_day = ? and l.event_type = 'decision' order by l.application_id",
    )
    assert len(rows) == 100
    shares = in_rollout(pd.Series([r[0] for r in rows]), SHARE)
    assert 20 < shares.sum() < 80
    for (application_id, recorded, score, day_champion, champion_p_bad, challenger_p_bad), in_share in zip(rows, shares):
        assert day_champion == champion
        assert (recorded, score) == ((challenger, pytest.approx(challenger_p_bad)) if in_share else (champion, pytest.approx(champion_p_bad))), application_id


def test_the_day_replays_to_a_match_even_after_the_challenger_is_stood_down(rollout_day):
    home, code, champion, challenger = rollout_day
    first = json.loads(keel(home, "replay", "--date", DAY, "--json", env=code, check=False).stdout)
    assert first["match"], first["differences"][:5]
    assert (first["recorded_versions"]["model_version"], first["recorded_versions"]["challenger_version"]) == (champion, challenger)
    keel(home, "model", "set-challenger", champion, "--by", "risk-officer", "--reason", "stop the rollout", env=code)
    again = json.loads(keel(home, "replay", "--date", DAY, "--json", env=code, check=False).stdout)
    assert again["match"], "the replay restores the challenger that decided the day: " + str(again["differences"][:5])


def test_explain_and_the_review_queue_show_the_score_the_case_was_routed_on(rollout_day):
    home, _code, champion, challenger = rollout_day
    decided_by_challenger = _day(
        home,
        "select d.application_id, d.route, s.p_bad, s.challenger_p_bad from decisioning.decisions d join decisioning.scores s "
        "using (application_id) where d.application_date = cast(? as date) and d.decided_by_model = s.challenger_version "
        "order by d.application_id",
    )
    application_id, _route, champion_p_bad, challenger_p_bad = decided_by_challenger[0]
    story = keel_json(home, "explain", application_id)
    assert story["model_version"] == challenger and story["score"] == pytest.approx(challenger_p_bad)
    assert story["champion_score"] == {"model_version": champion, "score": pytest.approx(champion_p_bad)}
    text = keel(home, "explain", application_id).stdout
    assert f"Model {challenger} put the probability of bad repayment at {challenger_p_bad:.1%}." in text
    assert f"the champion, {champion}, scored it {champion_p_bad:.1%} (not used)" in text
    reviewed = [(a, p) for a, route, _, p in decided_by_challenger if route == "review"]
    assert reviewed, "half of a day's applications include cases sent to review"
    listed = {c["application_id"]: c for c in keel_json(home, "review", "list", "--date", DAY)["cases"]}
    assert all(listed[a]["p_bad"] == round(p, 4) for a, p in reviewed), "the reviewer sees the score behind the suggestion"
