"""Are some groups of applicants treated worse than others?

For each segment attribute (age band, home, marital status, job) the
approval rate of every segment is compared with the best-treated segment of
the same attribute. The four-fifths rule, long used in fair-lending and
employment reviews as a screen for adverse impact, asks that no segment's
rate fall below 80% of the best one. Small segments are listed but neither
held to the ratio nor allowed to set the "best" rate: a segment of five
applicants can have any approval rate by chance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from keel.columns import AGE_BANDS, LABEL_BAD, REPAYMENT_STATUS, ROUTE_APPROVE, ROUTE_DECLINE, ROUTE_REVIEW, SEGMENT_COLUMNS
from keel.monitoring.config import MonitoringConfig
from keel.monitoring.statistics import bucket_labels

ROUTE = "route"
SEGMENT_COLUMNS_OUT: tuple[str, ...] = (
    "segment_column",
    "segment_value",
    "n",
    "approval_rate",
    "review_rate",
    "decline_rate",
    "n_labelled",
    "bad_rate",
    "approval_ratio_vs_best",
    "four_fifths_ok",
)


def segment_outcomes(
    decisions: pd.DataFrame,
    config: MonitoringConfig,
    segment_columns: tuple[str, ...] = SEGMENT_COLUMNS,
) -> pd.DataFrame:
    """One row per (segment_column, segment_value) (columns: SEGMENT_COLUMNS_OUT).

    `decisions` holds the segment columns and `route` (approve/decline/review),
    optionally `status` (good/bad or missing). Pass final routes to judge the
    whole process, automatic routes to judge the policy alone. If `age_band`
    is wanted but only `age` is present, the band is derived from
    keel.columns.AGE_BANDS. Missing segment values form their own segment.

    approval_ratio_vs_best is NaN and four_fifths_ok is <NA> (nullable
    boolean) for segments below `segments.min_rows`, and when no segment of
    the attribute is large enough or none was approved at all.
    """
    decisions = _with_age_band(decisions, segment_columns)
    missing = [c for c in (*segment_columns, ROUTE) if c not in decisions.columns]
    if missing:
        raise ValueError(f"segment outcomes: the decisions frame lacks {missing} (has {list(decisions.columns)})")
    thresholds = config.segments
    has_status = REPAYMENT_STATUS in decisions.columns
    tables = []
    for column in segment_columns:
        keys = bucket_labels(decisions[column])
        frame = pd.DataFrame(
            {
                "segment_value": keys,
                "approved": decisions[ROUTE] == ROUTE_APPROVE,
                "reviewed": decisions[ROUTE] == ROUTE_REVIEW,
                "declined": decisions[ROUTE] == ROUTE_DECLINE,
                "labelled": decisions[REPAYMENT_STATUS].notna() if has_status else False,
                "bad": decisions[REPAYMENT_STATUS] == LABEL_BAD if has_status else False,
            }
        )
        grouped = frame.groupby("segment_value", sort=True)
        table = pd.DataFrame(
            {
                "n": grouped.size(),
                "approval_rate": grouped["approved"].mean(),
                "review_rate": grouped["reviewed"].mean(),
                "decline_rate": grouped["declined"].mean(),
                "n_labelled": grouped["labelled"].sum().astype("int64"),
            }
        )
        bad_counts = grouped["bad"].sum()
        table["bad_rate"] = (bad_counts / table["n_labelled"]).where(table["n_labelled"] > 0)
        eligible = table["n"] >= thresholds.min_rows
        best = table.loc[eligible, "approval_rate"].max() if eligible.any() else np.nan
        ratio = (table["approval_rate"] / best).where(eligible) if best and best > 0 else pd.Series(np.nan, index=table.index)
        table["approval_ratio_vs_best"] = ratio.astype("float64")
        table["four_fifths_ok"] = pd.array(
            [pd.NA if np.isnan(r) else bool(r >= thresholds.four_fifths_ratio) for r in ratio], dtype="boolean"
        )
        tables.append(table.reset_index().assign(segment_column=column))
    result = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=list(SEGMENT_COLUMNS_OUT))
    return result[list(SEGMENT_COLUMNS_OUT)]


def _with_age_band(decisions: pd.DataFrame, segment_columns: tuple[str, ...]) -> pd.DataFrame:
    if "age_band" not in segment_columns or "age_band" in decisions.columns or "age" not in decisions.columns:
        return decisions
    age = pd.to_numeric(decisions["age"], errors="coerce")
    band = pd.Series(pd.NA, index=decisions.index, dtype="object")
    for low, high, label in AGE_BANDS:
        band[(age >= low) & (age <= high)] = label
    return decisions.assign(age_band=band)
