"""Figures as people read them: the model card's tables and the model commands' lines."""

from __future__ import annotations

import math
from typing import Any


def figure_text(value: Any, digits: int = 4) -> str:
    """A float to `digits` decimals, a flag as yes/no, a missing or NaN figure as n/a, anything else as itself."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)
