"""The fallback scorecard: how cases are decided when the model cannot score them.

Decisions must not stop because a model artifact is missing or a scoring run
failed; they must not silently pretend the model decided either. The
scorecard is a short list of risk rules the credit team can defend line by
line (past arrears records, a part-time job, a loan close to the full price).
Each case's points are the base plus the points of every rule that holds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from keel.policy.definition import FallbackScorecard
from keel.policy.errors import PolicyApplicationError


def scorecard_points(features: pd.DataFrame, scorecard: FallbackScorecard) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    """Risk points per case, and (code, fired mask) per scorecard rule."""
    points = np.full(len(features), scorecard.base_points, dtype="float64")
    fired = []
    for rule in scorecard.rules:
        try:
            mask = rule.condition.mask(features)
        except PolicyApplicationError as exc:
            raise PolicyApplicationError(f"fallback scorecard rule {rule.code}: {exc}") from None
        points += np.where(mask, rule.points, 0.0)
        fired.append((rule.code, mask))
    return points, fired
