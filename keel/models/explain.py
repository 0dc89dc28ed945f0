"""Why a score is high or low: the features that moved each application's score most.

A reviewer looking at a case in the review queue needs the few facts that
drove the model's score, in words. For each feature we replace the row's
value with a typical training value (the median, or the most common
category) and measure how much the score changes; the features with the
largest change, in either direction, are shown like "income=45 (low) +0.12":
this row's low income raised its probability of bad repayment by 0.12
compared with an applicant with a typical income.

It is a one-feature-at-a-time sensitivity, not a full attribution: the
changes do not add up to the score, and derived ratios (loan_to_price,
installment_to_income) are not recomputed when the amount or income they
come from is swapped. It is cheap (one prediction over the rows and their
what-if copies), deterministic, and works for any fitted keel pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from keel.columns import CATEGORICAL_FEATURES, MODEL_FEATURES
from keel.models.training import FEATURE_REFERENCE_ATTRIBUTE, feature_reference, model_input

# Changes that would print as +0.00 or -0.00 explain nothing.
MIN_SHOWN_CONTRIBUTION = 0.005
# At most this many what-if rows (cases x (features + 1)) go to the model at once.
WHAT_IF_ROWS_PER_CALL = 200_000


def _reference_for(pipeline, features: pd.DataFrame, reference: Mapping | None) -> dict:
    # Keel pipelines carry their training reference; a pipeline trained
    # elsewhere falls back to the frame's own medians and modes.
    chosen = dict(reference or getattr(pipeline, FEATURE_REFERENCE_ATTRIBUTE, None) or feature_reference(features))
    missing = [c for c in MODEL_FEATURES if c not in chosen]
    if missing:
        raise ValueError(f"the feature reference lacks {missing}")
    return chosen


def feature_contributions(pipeline, frame: pd.DataFrame, reference: Mapping | None = None) -> pd.DataFrame:
    """Score change per row (rows) and feature (columns): score minus score with the feature made typical."""
    features = model_input(frame).reset_index(drop=True)
    reference = _reference_for(pipeline, features, reference)
    if features.empty:
        return pd.DataFrame(columns=list(MODEL_FEATURES), dtype="float64")
    cases_per_call = max(1, WHAT_IF_ROWS_PER_CALL // (len(MODEL_FEATURES) + 1))
    return pd.concat(
        [
            _changes(pipeline, features.iloc[start : start + cases_per_call].reset_index(drop=True), reference)
            for start in range(0, len(features), cases_per_call)
        ],
        ignore_index=True,
    )


def _changes(pipeline, features: pd.DataFrame, reference: Mapping) -> pd.DataFrame:
    # The rows as they are and, per feature, the rows with that feature made
    # typical, scored in one call: a call costs the pipeline's fixed overhead
    # whatever its size (the five-model ensemble: 25 queued cases took ~0.35 s
    # as a call per feature). A row's score depends on that row alone, so the
    # numbers are those of a call per feature.
    variants = [features] + [features.assign(**{column: reference[column]}) for column in MODEL_FEATURES]
    scores = pipeline.predict_proba(pd.concat(variants, ignore_index=True))[:, 1].reshape(len(variants), len(features))
    return pd.DataFrame((scores[0] - scores[1:]).T, columns=list(MODEL_FEATURES))


def _shown_number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _describe(column: str, value, typical) -> str:
    if pd.isna(value):
        return f"{column}=missing"
    if column in CATEGORICAL_FEATURES:
        return f"{column}={value}"
    is_flag = value in (0, 1) and typical in (0, 1)
    if is_flag or value == typical:
        return f"{column}={_shown_number(value)}"
    return f"{column}={_shown_number(value)} ({'low' if value < typical else 'high'})"


def top_feature_contributions(pipeline, frame: pd.DataFrame, k: int = 3, reference: Mapping | None = None) -> list[list[str]]:
    """For each row of `frame`, in order, up to k short texts like "income=45 (low) +0.12".

    Ordered by the size of the change, largest first; ties keep the feature
    order of keel.columns.MODEL_FEATURES. Changes under 0.005 are left out.
    """
    changes = feature_contributions(pipeline, frame, reference)
    if changes.empty:
        return []
    features = model_input(frame).reset_index(drop=True)
    reference = _reference_for(pipeline, features, reference)
    columns = np.asarray(MODEL_FEATURES)
    values = changes.to_numpy()
    # Stable sort on the negated size keeps ties in feature order.
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :k]
    explained: list[list[str]] = []
    for row, picks in enumerate(order):
        texts = []
        for pick in picks:
            change = values[row, pick]
            if abs(change) < MIN_SHOWN_CONTRIBUTION:
                break
            column = columns[pick]
            texts.append(f"{_describe(column, features.at[row, column], reference[column])} {change:+.2f}")
        explained.append(texts)
    return explained

