"""`keel model set-challenger`: shadow scoring for any version, a share of decisions only for one that could be promoted."""

import dataclasses

import pytest
from typer.testing import CliRunner

import keel.decisioning
from keel.cli.model import model_app
from keel.control_store import ControlStore
from keel.policy.definition import Rollout

VERSION = "m-candidate01"


@pytest.fixture
def store(tmp_path, monkeypatch):
    # The CLI points the process at its home; monkeypatch puts both variables back afterwards.
    monkeypatch.setenv("KEEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    store = ControlStore(tmp_path / "home" / "control.sqlite")
    store.register_model_version(
        version=VERSION, artifact_sha256="0" * 64, metrics={}, training_window=None, features=[], params={},
        gate={"passed": True, "failures": []},
    )
    return store


def _set_challenger():
    return CliRunner().invoke(model_app, ["set-challenger", VERSION, "--by", "risk-officer", "--reason", "try it"])


def _rollout(monkeypatch, share: float) -> None:
    policy = dataclasses.replace(keel.decisioning.current_policy(), rollout=Rollout(challenger_share=share))
    monkeypatch.setattr(keel.decisioning, "current_policy", lambda: policy)


def test_a_shadow_challenger_needs_no_approval(store, monkeypatch):
    _rollout(monkeypatch, 0.0)
    result = _set_challenger()
    assert result.exit_code == 0, result.output
    assert store.current_alias("challenger") == VERSION


def test_a_challenger_that_would_decide_a_share_needs_an_approval(store, monkeypatch):
    _rollout(monkeypatch, 0.25)
    refused = _set_challenger()
    assert refused.exit_code == 1
    assert "lets the challenger decide 25% of applications" in refused.output and f"model {VERSION} has no approval" in refused.output
    assert store.current_alias("challenger") is None
    store.record_approval(VERSION, by="risk-officer", reason="holdout and segments reviewed")
    assert _set_challenger().exit_code == 0 and store.current_alias("challenger") == VERSION
