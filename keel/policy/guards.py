"""The checks that send a case to a person whatever its score: hard rules and the out-of-distribution guard.

Each check yields (reason code, boolean mask over the frame); the engine
combines them. They run on every case, whether the model or the fallback
scorecard decides, because a case the business wants a person to see does not
become safe when the model is down.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from keel.policy.definition import OutOfDistributionGuard, Policy
from keel.policy.errors import PolicyApplicationError
from keel.policy.reasons import OUT_OF_TRAINING_RANGE, UNSEEN_CATEGORY, feature_code
from keel.policy.training_profile import TrainingProfile


def hard_rule_flags(features: pd.DataFrame, policy: Policy) -> Iterator[tuple[str, np.ndarray]]:
    for rule in policy.hard_rules:
        try:
            yield rule.code, rule.condition.mask(features)
        except PolicyApplicationError as exc:
            raise PolicyApplicationError(f"policy {policy.version} hard rule {rule.code}: {exc}") from None


def out_of_distribution_flags(
    features: pd.DataFrame, profile: TrainingProfile, guard: OutOfDistributionGuard
) -> Iterator[tuple[str, np.ndarray]]:
    """One flag per profiled feature: the value lies outside what training saw.

    Missing values are never out of distribution here: missingness is the
    business of the hard rules and of the model's imputation.
    """
    absent = [f for f in (*profile.numeric_ranges, *(profile.categories if guard.unseen_categories else ())) if f not in features.columns]
    if absent:
        raise PolicyApplicationError(f"the out-of-distribution guard checks {absent}, which the feature frame does not have")
    for feature, (low, high) in sorted(profile.numeric_ranges.items()):
        slack = guard.numeric_margin * (high - low)
        values = features[feature].to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            outside = (values < low - slack) | (values > high + slack)
        yield feature_code(OUT_OF_TRAINING_RANGE, feature), outside
    if guard.unseen_categories:
        for feature, seen in sorted(profile.categories.items()):
            column = features[feature]
            if not pd.api.types.is_string_dtype(column.dtype):
                column = column.astype("str").where(column.notna())  # training categories are kept as text
            unseen = column.notna() & ~column.isin(list(seen))
            yield feature_code(UNSEEN_CATEGORY, feature), unseen.to_numpy(dtype=bool)
