"""Severity levels shared by every monitoring check, and the threshold bands that assign them.

Every figure monitoring computes (a PSI, an AUC, a volume ratio) is judged
against a pair of thresholds from policies/monitoring.yaml: crossing the first
is a warning (someone should look), crossing the second an alert (decisions
may be wrong). Keeping the comparison in one place means "warn" means the same
thing for a feature, the score, the volume and the model's performance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

OK = "ok"
WARN = "warn"
ALERT = "alert"
SEVERITIES: tuple[str, ...] = (OK, WARN, ALERT)
_RANK = {level: rank for rank, level in enumerate(SEVERITIES)}


def worst(*levels: str) -> str:
    """The most severe of the given levels (ok when none are given)."""
    return max(levels, key=_RANK.__getitem__, default=OK)


def severity_rank(level: str) -> int:
    """0 for ok, 1 for warn, 2 for alert: for sorting tables worst first."""
    return _RANK[level]


@dataclass(frozen=True)
class Band:
    """A warn/alert threshold pair for one figure.

    `higher_is_worse` says which way the figure degrades: a PSI is worse when
    it rises, a ROC AUC when it falls. A missing figure (None or NaN) cannot
    cross a threshold, so it is judged ok; callers report why it is missing.
    """

    warn: float
    alert: float
    higher_is_worse: bool = True

    def __post_init__(self) -> None:
        if self.higher_is_worse and not self.warn <= self.alert:
            raise ValueError(f"warn ({self.warn}) must be at most alert ({self.alert}) when higher is worse")
        if not self.higher_is_worse and not self.warn >= self.alert:
            raise ValueError(f"warn ({self.warn}) must be at least alert ({self.alert}) when lower is worse")

    def level(self, value: float | None) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return OK
        if self.higher_is_worse:
            return ALERT if value >= self.alert else WARN if value >= self.warn else OK
        return ALERT if value <= self.alert else WARN if value <= self.warn else OK

    def to_dict(self) -> dict:
        return {"warn": self.warn, "alert": self.alert}


def judge(label: str, value: float | None, band: Band, reasons: list[str]) -> str:
    """The band's level for `value`, appending to `reasons` which threshold was crossed.

    The reasons ("psi 0.41 >= alert 0.25") make an alert explain itself in
    the Dagster UI without opening the report.
    """
    level = band.level(value)
    if level != OK:
        threshold = band.alert if level == ALERT else band.warn
        comparison = ">=" if band.higher_is_worse else "<="
        reasons.append(f"{label} {value:.3g} {comparison} {level} {threshold:g}")
    return level
