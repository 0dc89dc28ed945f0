"""The decision that stands for each application, once reviewers have spoken.

Automatic approvals and declines are final as routed. A case sent to review
takes its reviewer's decision; until one arrives it is `pending` — never
defaulted to the suggestion, because a credit decision nobody made must not
look made. A reviewer who decides differently from the suggestion has
overridden it; the override rate is how the business learns whether its
thresholds still fit.

A reviewer's decision also stands when the case's day is decided again (a
replaced landing file, a re-score after a promotion) and the policy now
decides it automatically: automation does not overturn a person, who may have
known more than the data (a doubt about the documents, a fraud suspicion).
The re-decision stays on record in the ledger; `keel explain` tells both.

A reviewer's decision may be amended (a reviewer corrects a mistake): the
latest decision for a case stands, and the ones it amended stay on record.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from keel.columns import APPLICATION_ID, ROUTE_REVIEW
from keel.frames import merge_one_to_one

PENDING = "pending"
DECIDED_BY_AUTO = "auto"
DECIDED_BY_REVIEWER = "reviewer"
FINAL_COLUMNS: tuple[str, ...] = (
    APPLICATION_ID,
    "final_decision",
    "decided_by",
    "reviewer",
    "review_reason",
    "reviewed_at",
    "overridden",
)
OUTCOME_COLUMNS: tuple[str, ...] = (APPLICATION_ID, "decision", "reviewer", "reason", "reviewed_at")


def final_decisions(decisions: pd.DataFrame, review_outcomes: pd.DataFrame | None) -> pd.DataFrame:
    """One row per application of `decisions`, in its order (columns FINAL_COLUMNS).

    decisions: application_id, route, suggested_decision (the policy's output).
    review_outcomes: accepted inbox decisions (application_id, decision,
    reviewer, reason, reviewed_at, and `amends`, false when absent) in the
    order they were taken in, possibly covering other days too; outcomes for
    applications not in `decisions` are ignored. A case's latest outcome
    stands; a later outcome that is not an amendment means the inbox checks
    were bypassed, and raises. An outcome for a case now routed automatically
    (its day decided again since the review) stands, and counts as overriding
    the automatic decision when it differs.
    """
    missing = [c for c in (APPLICATION_ID, "route", "suggested_decision") if c not in decisions.columns]
    if missing:
        raise ValueError(f"decisions lack the column(s) {missing}")
    if review_outcomes is None:
        review_outcomes = pd.DataFrame(columns=list(OUTCOME_COLUMNS))
    absent = [c for c in OUTCOME_COLUMNS if c not in review_outcomes.columns]
    if absent:
        raise ValueError(f"review outcomes lack the column(s) {absent}")

    outcomes = review_outcomes[review_outcomes[APPLICATION_ID].isin(decisions[APPLICATION_ID])]
    amends = outcomes["amends"].fillna(False).astype(bool) if "amends" in outcomes.columns else pd.Series(False, index=outcomes.index)
    unamended_again = outcomes[APPLICATION_ID].duplicated() & ~amends
    if unamended_again.any():
        raise ValueError(
            f"application {outcomes[APPLICATION_ID][unamended_again].iloc[0]} has a second review outcome that is not an amendment; "
            "only the first decision may be accepted"
        )
    latest = ~outcomes[APPLICATION_ID].duplicated(keep="last")
    outcomes = outcomes[latest][list(OUTCOME_COLUMNS)].rename(columns={"reason": "review_reason"})
    merged = merge_one_to_one(decisions[[APPLICATION_ID, "route", "suggested_decision"]], outcomes, on=APPLICATION_ID, how="left")

    in_review = (merged["route"] == ROUTE_REVIEW).to_numpy()
    reviewed = merged["decision"].notna().to_numpy()
    automatic = merged["route"].to_numpy(dtype=object)
    final = np.where(reviewed, merged["decision"].to_numpy(dtype=object), np.where(in_review, PENDING, automatic))
    decided_by = np.where(reviewed, DECIDED_BY_REVIEWER, np.where(in_review, None, DECIDED_BY_AUTO))
    overridden = reviewed & (merged["decision"].to_numpy(dtype=object) != merged["suggested_decision"].to_numpy(dtype=object))
    return pd.DataFrame(
        {
            APPLICATION_ID: merged[APPLICATION_ID].to_numpy(),
            "final_decision": pd.array(final, dtype="str"),
            "decided_by": pd.array(decided_by, dtype="str"),
            "reviewer": merged["reviewer"].astype("str"),
            "review_reason": merged["review_reason"].astype("str"),
            "reviewed_at": merged["reviewed_at"].astype("str"),
            "overridden": overridden,
        },
        columns=list(FINAL_COLUMNS),
    )
