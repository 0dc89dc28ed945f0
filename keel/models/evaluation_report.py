"""A candidate against the champion, as the tables a model-risk reviewer reads before approving.

The figures come from the evaluation made at training time (both models on
the same holdout, keel.models.evaluation); this lays them side by side,
overall and per segment, for the model_evaluation asset.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from keel.models.evaluation import compare


def metrics_table(candidate: Mapping, champion: Mapping | None) -> pd.DataFrame:
    """One row per headline metric: candidate, champion, candidate minus champion."""
    compared = compare(candidate, champion)["metrics"]
    return pd.DataFrame(
        [{"metric": name, "candidate": row["candidate"], "champion": row["champion"], "delta": row["delta"]} for name, row in compared.items()]
    )


def segments_table(candidate: Mapping, champion: Mapping | None) -> pd.DataFrame:
    """Per segment (age band, home, marital status, job): rows, approval rate and ratio to the best segment, both models."""
    rows = []
    theirs_all = (champion or {}).get("segments") or {}
    for column, report in (candidate.get("segments") or {}).items():
        for label, ours in report.items():
            theirs = (theirs_all.get(column) or {}).get(label) or {}
            rows.append(
                {
                    "segment": f"{column}={label}",
                    "rows": ours.get("rows"),
                    "approval_candidate": ours.get("approval_rate"),
                    "approval_champion": theirs.get("approval_rate"),
                    "ratio_to_best_candidate": ours.get("approval_ratio_to_best"),
                    "ratio_to_best_champion": theirs.get("approval_ratio_to_best"),
                    "bad_rate": ours.get("bad_rate"),
                }
            )
    return pd.DataFrame(rows)
