"""Decisions compared before and after a change (a model promotion, a policy edit): the routes that flip."""

from __future__ import annotations

from collections import Counter

import pandas as pd


def route_flips(compared: pd.DataFrame) -> dict:
    """Counts from one row per application: `route` (recorded), `new_route` (after the change) and `day`."""
    flipped = compared[compared["route"] != compared["new_route"]]
    pairs = Counter(f"{a}->{b}" for a, b in zip(flipped["route"], flipped["new_route"]))
    return {
        "applications": int(len(compared)),
        "flipped": int(len(flipped)),
        "flips": dict(sorted(pairs.items())),
        "flips_by_day": {str(day): int(n) for day, n in flipped.groupby("day").size().items()},
        "routes_now": {k: int(v) for k, v in compared["route"].value_counts().sort_index().items()},
        "routes_after": {k: int(v) for k, v in compared["new_route"].value_counts().sort_index().items()},
    }


def route_flip_lines(result: dict) -> list[str]:
    """The flips by (route now -> route after) and both route counts, as the dry runs print them."""
    lines = [f"  {pair}: {count}" for pair, count in result["flips"].items()]
    lines.append("  routes now:   " + ", ".join(f"{k} {v}" for k, v in result["routes_now"].items()))
    lines.append("  routes after: " + ", ".join(f"{k} {v}" for k, v in result["routes_after"].items()))
    return lines
