"""Reason codes: why a case was routed the way it was, in words a reviewer understands.

Every decision carries a sorted JSON array of codes. The codes below are
fixed by the engine; a policy adds its own for its hard rules and scorecard
lines (their sentences live in the policy file). Two families name the
feature they are about, after a colon: OUT_OF_TRAINING_RANGE:income,
UNSEEN_CATEGORY:job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from keel.policy.definition import Policy

MODEL_UNAVAILABLE = "MODEL_UNAVAILABLE"
TRAINING_PROFILE_MISSING = "TRAINING_PROFILE_MISSING"
QA_SAMPLE = "QA_SAMPLE"
SCORE_BELOW_APPROVE = "SCORE_BELOW_APPROVE_THRESHOLD"
SCORE_IN_REVIEW_BAND = "SCORE_IN_REVIEW_BAND"
SCORE_AT_OR_ABOVE_DECLINE = "SCORE_AT_OR_ABOVE_DECLINE_THRESHOLD"
FALLBACK_BELOW_APPROVE = "FALLBACK_POINTS_BELOW_APPROVE_THRESHOLD"
FALLBACK_IN_REVIEW_BAND = "FALLBACK_POINTS_IN_REVIEW_BAND"
FALLBACK_AT_OR_ABOVE_DECLINE = "FALLBACK_POINTS_AT_OR_ABOVE_DECLINE_THRESHOLD"
OUT_OF_TRAINING_RANGE = "OUT_OF_TRAINING_RANGE"
UNSEEN_CATEGORY = "UNSEEN_CATEGORY"

REASONS: dict[str, str] = {
    MODEL_UNAVAILABLE: "The model could not score this application (no usable model, or no valid score), so the fallback scorecard decided.",
    TRAINING_PROFILE_MISSING: "The model's training profile is missing, so nobody can tell whether this application resembles the training data; a person decides.",
    QA_SAMPLE: "Picked at random for quality assurance: the automatic decision is checked by a person before it stands.",
    SCORE_BELOW_APPROVE: "The model's probability of bad repayment is below the policy's approval threshold.",
    SCORE_IN_REVIEW_BAND: "The model's probability of bad repayment is between the approval and decline thresholds.",
    SCORE_AT_OR_ABOVE_DECLINE: "The model's probability of bad repayment is at or above the policy's decline threshold.",
    FALLBACK_BELOW_APPROVE: "The fallback scorecard's risk points are below its approval threshold.",
    FALLBACK_IN_REVIEW_BAND: "The fallback scorecard's risk points are between its approval and decline thresholds.",
    FALLBACK_AT_OR_ABOVE_DECLINE: "The fallback scorecard's risk points are at or above its decline threshold.",
}
# Families whose code carries the feature name after a colon.
FEATURE_REASONS: dict[str, str] = {
    OUT_OF_TRAINING_RANGE: "{feature} is outside the range of values the model was trained on.",
    UNSEEN_CATEGORY: "{feature} has a value the model never saw in training.",
}


def feature_code(family: str, feature: str) -> str:
    return f"{family}:{feature}"


def is_reserved(code: str) -> bool:
    """True for codes the engine emits itself, which a policy must not redefine."""
    return code in REASONS or code.split(":", 1)[0] in FEATURE_REASONS


def reason_codes_json(codes: Iterable[str]) -> str:
    """The stored form of a set of codes: a JSON array, sorted, without duplicates."""
    return json.dumps(sorted(set(codes)))


def describe_reasons(codes: Iterable[str] | str, policy: "Policy | None" = None) -> list[str]:
    """One sentence per code, in the order given.

    `codes` may be a list or the stored JSON array text. Codes defined by a
    policy (hard rules, scorecard lines) need that policy to be described; a
    code nobody defines is named as such rather than dropped, so a reviewer
    never sees fewer reasons than were recorded.
    """
    if isinstance(codes, str):
        codes = json.loads(codes) if codes.strip() else []
    known = dict(REASONS)
    if policy is not None:
        known.update(policy.rule_descriptions())
    sentences = []
    for code in codes:
        family, _, feature = code.partition(":")
        if code in known:
            sentences.append(known[code])
        elif feature and family in FEATURE_REASONS:
            sentences.append(FEATURE_REASONS[family].format(feature=feature))
        else:
            sentences.append(f"{code}: no description is recorded for this reason code.")
    return sentences


def reason_codes_column(flags: Iterable[tuple[str, "np.ndarray"]], rows: int) -> tuple[list[str], "np.ndarray"]:
    """The stored reason codes of every case, from one boolean mask per code.

    A million cases share only a few hundred distinct combinations of codes,
    so the JSON text is built once per combination: the result is (the
    distinct texts, the index of each case's text), ready for text_column.
    """
    import numpy as np

    merged: dict[str, np.ndarray] = {}
    for code, mask in flags:
        merged[code] = merged[code] | mask if code in merged else np.asarray(mask, dtype=bool)
    active = sorted((code, mask) for code, mask in merged.items() if mask.any())
    if not active:
        return ["[]"], np.zeros(rows, dtype=np.int32)
    codes = [code for code, _ in active]
    matrix = np.column_stack([mask for _, mask in active])
    packed = np.packbits(matrix, axis=1)
    if packed.shape[1] <= 8:
        keys = np.zeros((rows, 8), dtype=np.uint8)
        keys[:, : packed.shape[1]] = packed
        keys = keys.view(np.uint64).ravel()
    else:
        keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    texts = [reason_codes_json(codes[j] for j in np.flatnonzero(matrix[i])) for i in first]
    return texts, inverse.ravel()
