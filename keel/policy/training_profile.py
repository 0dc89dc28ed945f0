"""What the model saw in training, kept so the policy can spot cases unlike it.

A model extrapolates silently: asked about an income ten times the largest it
was trained on, or a job category it never saw, it still returns a confident
number. The profile records, per model version, the range of every numeric
feature and the categories of every categorical one; the out-of-distribution
guard sends cases outside them to a person. It is stored as JSON with the
model version in the control store.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from keel.columns import CATEGORICAL_FEATURES, NUMERIC_FEATURES

PROFILE_FORMAT = 1


@dataclass(frozen=True)
class TrainingProfile:
    """Per numeric feature its (min, max) over finite training values; per categorical feature the values seen.

    A numeric feature with no finite training value has no range and is not checked.
    """

    numeric_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    categories: Mapping[str, frozenset[str]] = field(default_factory=dict)
    rows: int = 0

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        numeric_features: Iterable[str] = NUMERIC_FEATURES,
        categorical_features: Iterable[str] = CATEGORICAL_FEATURES,
    ) -> "TrainingProfile":
        numeric_features, categorical_features = tuple(numeric_features), tuple(categorical_features)
        missing = [c for c in numeric_features + categorical_features if c not in frame.columns]
        if missing:
            raise ValueError(f"training frame lacks the feature columns {missing} needed for the training profile")
        ranges: dict[str, tuple[float, float]] = {}
        for feature in numeric_features:
            values = frame[feature].to_numpy(dtype="float64", na_value=np.nan)
            finite = values[np.isfinite(values)]
            if finite.size:
                ranges[feature] = (float(finite.min()), float(finite.max()))
        categories = {feature: frozenset(str(v) for v in frame[feature].dropna().unique()) for feature in categorical_features}
        return cls(numeric_ranges=ranges, categories=categories, rows=len(frame))

    def to_dict(self) -> dict:
        """JSON-safe, with sorted keys and categories so equal profiles serialize identically."""
        return {
            "format": PROFILE_FORMAT,
            "rows": self.rows,
            "numeric": {f: {"min": low, "max": high} for f, (low, high) in sorted(self.numeric_ranges.items())},
            "categorical": {f: sorted(values) for f, values in sorted(self.categories.items())},
        }

    @classmethod
    def from_dict(cls, document: Mapping) -> "TrainingProfile":
        if not isinstance(document, Mapping) or document.get("format") != PROFILE_FORMAT:
            found = document.get("format") if isinstance(document, Mapping) else type(document).__name__
            raise ValueError(f"training profile: expected format {PROFILE_FORMAT}, found {found!r}")
        ranges = {}
        for feature, bounds in (document.get("numeric") or {}).items():
            low, high = float(bounds["min"]), float(bounds["max"])
            if not (math.isfinite(low) and math.isfinite(high) and low <= high):
                raise ValueError(f"training profile: numeric.{feature}: expected finite min <= max, found {bounds!r}")
            ranges[feature] = (low, high)
        categories = {feature: frozenset(map(str, values)) for feature, values in (document.get("categorical") or {}).items()}
        return cls(numeric_ranges=ranges, categories=categories, rows=int(document.get("rows", 0)))
