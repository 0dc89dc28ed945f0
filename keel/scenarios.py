"""Drift on request: reshape landing data the way a changing market would.

The demo and the benchmarks need days on which monitoring has something to
find. These functions take landing-format frames (keel.columns
SOURCE_APPLICATION_COLUMNS and SOURCE_OUTCOME_COLUMNS) and return changed
copies, so drifted data goes through the same contract, dbt models and
scoring as real data. At `strength` 1:
  * incomes fall to 60% (a recession), which also raises installment-to-income;
  * 30% of applicants hold a "gig" job, a category the model never saw;
  * 30% of good repayments turn bad (the bad rate rises from ~28% to ~50%).
`strength` scales each change linearly; 0 returns the input unchanged.
The same input, strength and seed always give the same output.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from keel.columns import LABEL_BAD, LABEL_GOOD, REPAYMENT_STATUS

GIG_JOB = "gig"
INCOME_FALL_AT_FULL_STRENGTH = 0.4
GIG_SHARE_AT_FULL_STRENGTH = 0.3
GOOD_TURNED_BAD_AT_FULL_STRENGTH = 0.3


def apply_drift(applications: pd.DataFrame, strength: float, seed: int) -> pd.DataFrame:
    """A copy of the applications with incomes lowered and some jobs turned into "gig" work."""
    _check_strength(strength)
    _check_columns(applications, ("income", "job"), "apply_drift")
    drifted = applications.copy()
    income_factor = 1.0 - INCOME_FALL_AT_FULL_STRENGTH * strength
    # Incomes are whole currency units in the source; keep them so the contract still holds.
    drifted["income"] = (pd.to_numeric(applications["income"]) * income_factor).round()
    to_gig = np.random.default_rng(seed).random(len(applications)) < GIG_SHARE_AT_FULL_STRENGTH * strength
    drifted["job"] = applications["job"].where(~to_gig, GIG_JOB)
    return drifted


def drift_outcomes(outcomes: pd.DataFrame, strength: float, seed: int) -> pd.DataFrame:
    """A copy of the repayment outcomes with a share of good repayments turned bad."""
    _check_strength(strength)
    _check_columns(outcomes, (REPAYMENT_STATUS,), "drift_outcomes")
    drifted = outcomes.copy()
    flips = np.random.default_rng(seed).random(len(outcomes)) < GOOD_TURNED_BAD_AT_FULL_STRENGTH * strength
    turned_bad = flips & (outcomes[REPAYMENT_STATUS] == LABEL_GOOD).to_numpy()
    drifted.loc[turned_bad, REPAYMENT_STATUS] = LABEL_BAD
    return drifted


def _check_strength(strength: float) -> None:
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"drift strength must be between 0 and 1, found {strength!r}")


def _check_columns(frame: pd.DataFrame, needed: tuple[str, ...], caller: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"{caller}: the frame lacks {missing} (has {list(frame.columns)})")


SCENARIOS: tuple[str, ...] = ("none", "drift")


def resolve_drift_start(scenario: str, drift_from_day: int | None, days: int, outcome_delay_days: int) -> int | None:
    """The live day (1-based) from which a demo of `days` days drifts; None when it does not.

    By default the drift starts on the first day whose applications' outcomes
    from the first live day have landed (outcome_delay_days + 1): the
    retraining an alert starts then has live outcomes to learn from, so the
    candidate differs from the champion. A shorter demo drifts on its last day.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; expected one of {', '.join(SCENARIOS)}")
    if scenario == "none":
        if drift_from_day is not None:
            raise ValueError("--drift-from-day only applies to --scenario drift")
        return None
    if drift_from_day is None:
        return min(outcome_delay_days + 1, days)
    if not 1 <= drift_from_day <= days:
        raise ValueError(f"--drift-from-day must be a live day of the demo, between 1 and {days}; found {drift_from_day}")
    return drift_from_day
