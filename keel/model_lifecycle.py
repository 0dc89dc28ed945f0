"""Training, registering, approving, promoting and rolling back models.

Every step here appends to the control store; nothing is updated in place.
A candidate decides nothing until a person approves it and it is promoted,
and a promotion is refused unless the candidate passed the policy's gate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from keel.columns import MODEL_FEATURES
from keel.control_store import ControlStore
from keel.home import KeelHome
from keel.scoring import CHAMPION

if TYPE_CHECKING:
    import pandas as pd

# Bump when the training code changes what it produces (part of the model version):
# the registry refuses a version it knows with different artifact bytes.
# train-2: the text features reach the pipeline as object columns, and the
# artifact's layout changed with them (the same predictions).
TRAINING_CODE_VERSION = "train-2"
DEFAULT_PARAMS: dict = {}


class PromotionRefused(ValueError):
    """A promotion that the lifecycle rules do not allow; the message says which rule."""


@dataclass
class Registered:
    version: str
    artifact_sha256: str
    metrics: dict
    gate_passed: bool
    gate_failures: list[str] = field(default_factory=list)
    model_card: str = ""


def train_and_register(frame: pd.DataFrame, home: KeelHome, store: ControlStore, run_id: str | None = None, partition: str | None = None) -> Registered:
    import pandas as pd

    from keel.decisioning import current_policy
    from keel.models.artifacts import ModelStore
    from keel.models.card import model_card_markdown
    from keel.models.evaluation import evaluate, gate
    from keel.models.training import train_model
    from keel.monitoring import build_reference_profile
    from keel.policy import TrainingProfile
    from keel.scoring import ModelUnavailable, load_alias, score

    policy = current_policy()
    trained = train_model(frame, DEFAULT_PARAMS, TRAINING_CODE_VERSION)
    sha256 = ModelStore(home.models).save(trained.pipeline, trained.version)
    holdout = trained.holdout
    thresholds = (policy.thresholds.approve_below, policy.thresholds.decline_at_or_above)
    candidate_eval = evaluate(holdout["is_bad"].to_numpy(), trained.holdout_p_bad, holdout, thresholds)
    champion_eval = None
    try:
        champion = load_alias(store, ModelStore(home.models), CHAMPION)
        if champion.version != trained.version:
            champion_p = score(champion.pipeline, holdout)
            champion_eval = evaluate(holdout["is_bad"].to_numpy(), champion_p, holdout, thresholds)
    except ModelUnavailable:
        pass
    verdict = gate(candidate_eval, champion_eval, policy.model_gate)
    card = model_card_markdown(trained.version, trained, candidate_eval, verdict)
    profiles = {
        "training_profile": TrainingProfile.from_frame(frame).to_dict(),
        "reference_profile": build_reference_profile(frame, pd.Series(trained.train_p_bad), daily_volume=float(frame.groupby("application_date").size().mean())),
    }
    store.register_model_version(
        version=trained.version,
        artifact_sha256=sha256,
        metrics=candidate_eval,
        training_window=trained.training_window,
        features=list(MODEL_FEATURES),
        params=trained.params,
        run_id=run_id,
        partition=partition,
        model_card=card,
        profiles=profiles,
        gate={"passed": verdict.passed, "failures": verdict.failures, "champion": champion_eval},
    )
    headline = {k: v for k, v in candidate_eval.items() if not isinstance(v, (dict, list))}
    return Registered(trained.version, sha256, headline, verdict.passed, list(verdict.failures), card)


def approve(home: KeelHome, version: str, by: str, reason: str) -> None:
    store = ControlStore(home.control_store)
    if store.get_model_version(version) is None:
        raise PromotionRefused(f"model {version} is not in the registry (keel model list shows the versions)")
    store.record_approval(version, by=by, reason=reason)


def gate_failures(record: dict | None) -> list[str]:
    """Why a registered version failed the policy's model gate (empty when it passed)."""
    gate_result = (record or {}).get("gate") or {}
    if gate_result.get("passed"):
        return []
    return list(gate_result.get("failures") or ["no gate result recorded"])


def deciding_refusal(store: ControlStore, version: str, to: str = "decide applications") -> str | None:
    """Why `version` may not decide live applications, or None: it needs a person's approval and a passed gate.

    The rule behind a promotion, and behind a challenger deciding its share
    of applications under the policy's rollout.
    """
    record = store.get_model_version(version)
    if record is None:
        return f"model {version} is not in the registry (keel model list shows the versions)"
    if not store.approvals_for(version):
        return f"model {version} has no approval: run `keel model approve {version} --by NAME --reason TEXT` first"
    failures = gate_failures(record)
    if failures:
        return f"model {version} failed the policy's gate and cannot {to}: {'; '.join(failures)}"
    return None


def promotion_refusal(home: KeelHome, version: str, alias: str = CHAMPION) -> str | None:
    """Why promoting `version` would be refused, or None when it may move."""
    store = ControlStore(home.control_store)
    refusal = deciding_refusal(store, version, to="be promoted")
    if refusal:
        return refusal
    if store.current_alias(alias) == version:
        return f"model {version} already holds the {alias} alias"
    return None


def promote(home: KeelHome, version: str, by: str, reason: str, alias: str = CHAMPION) -> dict:
    refusal = promotion_refusal(home, version, alias)
    if refusal:
        raise PromotionRefused(refusal)
    return ControlStore(home.control_store).move_alias(alias, version, by=by, reason=reason)
