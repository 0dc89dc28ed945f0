"""The model card: what a model is, how well it did, for whom, and where not to trust it.

Written as Markdown when a candidate is registered, stored with it in the
control store and shown in the Dagster UI, so the person asked to approve a
model reads the same facts the gate checked — including the segment figures
and the limits of the data it learned from.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from keel.columns import CATEGORICAL_FEATURES, MODEL_FEATURES
from keel.figures import figure_text
from keel.models.evaluation import DEFAULT_MIN_SEGMENT_ROWS
from keel.models.training import FEATURE_REFERENCE_ATTRIBUTE, TrainedModel

# What data/seed/PROVENANCE.md says about the demo data, and what it does not.
SEED_DATA_NOTE = (
    "The demo data are the public `credit_data` set (R package modeldata, MIT licence; first published by "
    "Dr. Lluís A. Belanche Muñoz, Universitat Politècnica de Catalunya): 4,454 real consumer credit "
    "applications. It is usually described as Spanish lending data from the 1990s; its provenance records "
    "neither the lender, the country nor the period, and amounts are in an unstated currency. Applicants, "
    "prices and lending practice today differ: treat these figures as a demonstration, not as evidence of "
    "how the model would do on current applications."
)
# Features missing more often than this get a line in the limits.
NOTABLE_MISSING_SHARE = 0.01

METRIC_ROWS: tuple[tuple[str, str], ...] = (
    ("roc_auc", "ranking: chance a bad payer scores above a good one (0.5 = coin toss)"),
    ("pr_auc", "ranking among the riskiest (average precision)"),
    ("brier", "mean squared error of the probability (lower is better)"),
    ("calibration_error", "mean gap between predicted and observed bad rate, 10 bins (lower is better)"),
    ("approval_rate", "share approved automatically at the policy thresholds"),
    ("review_rate", "share sent to a reviewer"),
    ("decline_rate", "share declined automatically"),
    ("bad_rate_among_approved", "share of automatically approved applicants who repaid badly"),
    ("min_segment_approval_ratio", "lowest approval rate of a segment relative to the best of its column"),
)


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(figure_text(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _gate_fields(gate: Any) -> tuple[bool, list[str], list[str]]:
    if isinstance(gate, Mapping):
        return bool(gate.get("passed")), list(gate.get("failures") or []), list(gate.get("checked") or [])
    return bool(gate.passed), list(gate.failures), list(getattr(gate, "checked", []))


def auc_standard_error(auc: float, bad: int, good: int) -> float | None:
    """Hanley & McNeil's standard error of a ROC AUC measured on `bad` + `good` rows."""
    if auc is None or bad == 0 or good == 0:
        return None
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (bad - 1) * (q1 - auc**2) + (good - 1) * (q2 - auc**2)) / (bad * good)
    return math.sqrt(max(variance, 0.0))


def _summary(version: str, trained: TrainedModel, passed: bool) -> str:
    holdout_rows = len(trained.holdout)
    libraries = ", ".join(f"{name} {v}" for name, v in trained.library_versions.items())
    return _table(
        ["", ""],
        [
            ["version", f"`{version}`"],
            ["gate", "passed" if passed else "FAILED"],
            ["predicts", "calibrated probability of bad repayment (p_bad)"],
            ["training window", f"{trained.training_window['start']} to {trained.training_window['end']}"],
            ["applications", f"{trained.training_rows + holdout_rows} ({trained.training_rows} fitted, {holdout_rows} held out)"],
            ["bad rate", figure_text(trained.data_notes.get("bad_rate"), 3)],
            ["training data sha256", f"`{trained.training_data_sha256}`"],
            ["training code version", f"`{trained.code_version}`"],
            ["libraries", libraries],
            ["parameters", f"`{json.dumps(trained.params, sort_keys=True)}`"],
        ],
    )


def _features(trained: TrainedModel) -> str:
    reference = getattr(trained.pipeline, FEATURE_REFERENCE_ATTRIBUTE, {}) or {}
    missing = trained.data_notes.get("missing_share", {})
    rows = [
        [
            f"`{name}`",
            "categorical" if name in CATEGORICAL_FEATURES else "numeric",
            f"{missing.get(name, 0.0):.1%}",
            figure_text(reference.get(name), 3),
        ]
        for name in trained.features
    ]
    return _table(["feature", "kind", "missing in training data", "typical value"], rows)


def _metrics(evaluation: Mapping) -> str:
    rows = [[name, evaluation.get(name), meaning] for name, meaning in METRIC_ROWS]
    return _table(["metric", "holdout", "meaning"], rows)


def _segments(evaluation: Mapping) -> str:
    min_rows = evaluation.get("settings", {}).get("min_segment_rows", DEFAULT_MIN_SEGMENT_ROWS)
    parts = []
    for column, report in (evaluation.get("segments") or {}).items():
        rows = [
            [
                label if seg["in_ratio"] else f"{label} (under {min_rows} rows)",
                seg["rows"],
                seg["bad_rate"],
                seg["mean_p_bad"],
                seg["roc_auc"],
                seg["approval_rate"],
                seg["review_rate"],
                seg["bad_rate_among_approved"],
                seg["approval_ratio_to_best"],
            ]
            for label, seg in report.items()
        ]
        header = ["segment", "rows", "bad rate", "mean p_bad", "ROC AUC", "approval rate", "review rate", "bad among approved", "approval ratio to best"]
        parts.append(f"### {column}\n\n" + _table(header, rows))
    return "\n\n".join(parts) if parts else "No segment columns were available for this evaluation."


def _limits(trained: TrainedModel, evaluation: Mapping, data_source_note: str | None) -> list[str]:
    limits = []
    holdout_rows = int(evaluation.get("rows", len(trained.holdout)))
    bad = round(holdout_rows * float(evaluation.get("bad_rate", 0.0)))
    se = auc_standard_error(evaluation.get("roc_auc"), bad, holdout_rows - bad)
    size_note = f"Small data: {trained.training_rows} applications fitted, {holdout_rows} held out ({bad} bad repayments)."
    if se is not None:
        size_note += f" The holdout ROC AUC has a standard error of about {se:.3f}; differences between models smaller than about {2 * se:.3f} are within noise."
    limits.append(size_note)
    if data_source_note:
        limits.append(data_source_note)
    min_rows = evaluation.get("settings", {}).get("min_segment_rows", DEFAULT_MIN_SEGMENT_ROWS)
    small = [
        f"{column}={label} ({seg['rows']})"
        for column, report in (evaluation.get("segments") or {}).items()
        for label, seg in report.items()
        if not seg["in_ratio"]
    ]
    if small:
        limits.append(
            f"Segments with fewer than {min_rows} holdout rows are reported but not compared, and the model has seen few such "
            f"applicants: {', '.join(small)}."
        )
    missing = trained.data_notes.get("missing_share", {})
    notable = [f"{name} {share:.1%}" for name, share in missing.items() if share > NOTABLE_MISSING_SHARE and name in MODEL_FEATURES]
    if notable:
        limits.append(
            "Missing values: " + ", ".join(notable) + " of training applications. Missing numbers are replaced by the training "
            "median with a was-missing flag, so the model's view of these applicants (most often a missing income) rests on less information."
        )
    worst = evaluation.get("worst_segment")
    if worst:
        limits.append(
            f"Approval rates differ between segments (lowest relative to its column's best: {worst}, ratio "
            f"{figure_text(evaluation.get('min_segment_approval_ratio'), 2)}). The ratios follow observed repayment in the data; they are a "
            "prompt for review, not a fairness certification."
        )
    limits.append("Calibration holds for applicants like those in the training window; monitoring compares live scores and outcomes against it.")
    return limits


def model_card_markdown(version: str, trained: TrainedModel, evaluation: Mapping, gate: Any, data_source_note: str | None = SEED_DATA_NOTE) -> str:
    """The card as Markdown. `gate` is a GateResult or its dict; `data_source_note` describes where the data came from."""
    passed, failures, checked = _gate_fields(gate)
    settings = evaluation.get("settings", {})
    if passed:
        gate_text = f"Passed the policy's model gate (checked: {', '.join(checked) or 'nothing configured'})."
    else:
        gate_text = "Failed the policy's model gate; it cannot be promoted:\n\n" + "\n".join(f"- {failure}" for failure in failures)
    sections = [
        f"# Model card: {version}",
        "Credit-risk model for the credit decisioning workflow. It estimates the probability that an applicant repays badly; "
        "the decision policy turns that probability into approve, review or decline. It decides nothing until a person approves "
        "it and it is promoted to champion.",
        "## Summary\n\n" + _summary(version, trained, passed),
        "## Gate\n\n" + gate_text,
        "## Features\n\n" + _features(trained),
        f"## Holdout performance\n\nMeasured on {evaluation.get('rows')} held-out applications (chosen by a hash of the application id), "
        f"with the policy thresholds approve below {figure_text(settings.get('approve_below'), 2)} and decline at or above "
        f"{figure_text(settings.get('decline_at_or_above'), 2)}.\n\n" + _metrics(evaluation),
        "## By segment\n\n" + _segments(evaluation),
        "## Known limits\n\n" + "\n".join(f"- {limit}" for limit in _limits(trained, evaluation, data_source_note)),
    ]
    return "\n\n".join(sections) + "\n"
