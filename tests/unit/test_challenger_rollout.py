"""A challenger decides a deterministic, hash-based share of applications; every decision names its model."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from keel.control_store import ControlStore
from keel.decisioning import current_policy, decide_day, in_rollout
from keel.home import KeelHome
from keel.models.seed_features import seed_feature_frame
from keel.policy import TrainingProfile
from keel.policy.definition import Rollout


def test_rollout_share_is_deterministic_and_close_to_the_share():
    ids = pd.Series([f"A{n:06d}" for n in range(20_000)])
    chosen = in_rollout(ids, 0.1)
    assert np.array_equal(chosen, in_rollout(ids.sample(frac=1.0, random_state=1).sort_index(), 0.1))
    assert 0.09 < chosen.mean() < 0.11
    assert not in_rollout(ids, 0.0).any()


def _day_with_a_challenger(tmp_path, gate_passed: bool = True, approved: bool = True):
    """2,000 applications the champion scores low and the challenger high, under a 25% rollout."""
    features = seed_feature_frame().head(2_000).reset_index(drop=True).assign(application_date=pd.Timestamp("2026-01-09"))  # a decided day
    scores = features[["application_id"]].assign(
        p_bad=0.05, model_version="m-champion000", challenger_p_bad=0.95, challenger_version="m-challenger0"
    )
    policy = dataclasses.replace(current_policy(), rollout=Rollout(challenger_share=0.25))
    store = ControlStore(tmp_path / "control.sqlite")
    profile = {"training_profile": TrainingProfile.from_frame(seed_feature_frame()).to_dict()}
    for version, passed, with_approval in (("m-champion000", True, True), ("m-challenger0", gate_passed, approved)):
        store.register_model_version(
            version=version, artifact_sha256="0" * 64, metrics={}, training_window=None, features=[], params={}, profiles=profile,
            gate={"passed": passed, "failures": [] if passed else ["roc_auc 0.6000 is below min_roc_auc 0.7000"]},
        )
        if with_approval:
            store.record_approval(version, by="risk-officer", reason="gate and segments reviewed")
    return features, scores, store, policy


def test_the_challenger_decides_its_share_and_each_row_names_its_model(tmp_path):
    features, scores, store, policy = _day_with_a_challenger(tmp_path)
    decided = decide_day(features, scores, store, KeelHome(tmp_path), policy).frame
    by_challenger = decided["decided_by_model"] == "m-challenger0"
    assert np.array_equal(by_challenger.to_numpy(), in_rollout(features["application_id"], 0.25))
    # The challenger's high scores decline what the rules let through; the champion's low ones approve.
    assert (decided.loc[by_challenger, "route"] == "decline").sum() > 0 and not (decided.loc[by_challenger, "route"] == "approve").any()
    assert (decided.loc[~by_challenger, "route"] == "approve").sum() > 0 and not (decided.loc[~by_challenger, "route"] == "decline").any()
    assert set(decided["decided_by_model"]) == {"m-champion000", "m-challenger0"}
    # Each row carries the score it was routed on (what its reviewer sees and the ledger records);
    # model_version stays the day's champion.
    assert (decided.loc[by_challenger, "p_bad"] == 0.95).all() and (decided.loc[~by_challenger, "p_bad"] == 0.05).all()
    assert set(decided["model_version"]) == {"m-champion000"}


@pytest.mark.parametrize("gate_passed, approved", [(True, False), (False, True)], ids=["no approval", "failed gate"])
def test_a_challenger_that_could_not_be_promoted_stays_in_shadow(tmp_path, gate_passed, approved):
    features, scores, store, policy = _day_with_a_challenger(tmp_path, gate_passed=gate_passed, approved=approved)
    decided = decide_day(features, scores, store, KeelHome(tmp_path), policy).frame
    assert set(decided["decided_by_model"]) == {"m-champion000"}
    assert not (decided["route"] == "decline").any(), "the challenger's high scores decided nothing"
    assert (decided["p_bad"] == 0.05).all()


def test_replay_tells_champion_from_challenger_by_the_rollout_share():
    from keel.audit.replay import ReplayError, models_of_day

    ids = pd.Series([f"A{n:06d}" for n in range(400)])
    share = in_rollout(ids, 0.25)
    rows = pd.DataFrame({"application_id": ids, "model_version": np.where(share, "m-challenger0", "m-champion000")})
    assert models_of_day(rows, 0.25, "2026-01-15") == ("m-champion000", "m-challenger0")
    # A challenger in shadow (no approval) decided nothing: every row names the champion.
    assert models_of_day(rows.assign(model_version="m-champion000"), 0.25, "2026-01-15") == ("m-champion000", None)
    assert models_of_day(rows.assign(model_version="m-champion000"), 0.0, "2026-01-15") == ("m-champion000", None)
    # The fallback rules decided (no model): no version at all.
    assert models_of_day(rows.assign(model_version=""), 0.25, "2026-01-15") == (None, None)
    # A share of 1: the challenger decided the day alone, as a champion would.
    assert models_of_day(rows.assign(model_version="m-challenger0"), 1.0, "2026-01-15") == ("m-challenger0", None)
    swapped = rows.assign(model_version=np.where(share, "m-champion000", "m-challenger0"))
    with pytest.raises(ReplayError, match="expected one champion"):
        models_of_day(pd.concat([rows, swapped.head(5)]), 0.25, "2026-01-15")
