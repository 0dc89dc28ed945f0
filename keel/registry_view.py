"""What the model registry looks like right now, for the Dagster UI and the registry sensor.

The control store is the registry's source of truth; this turns it into the
figures and tables a person reads on the `model_registry` asset, and decides
which recent days to rescore when the champion moves (when configured).
"""

from __future__ import annotations

import os

from keel.control_store import ControlStore
from keel.scoring import NO_MODEL

RESCORE_ENV = "KEEL_RESCORE_DAYS_ON_PROMOTION"


def last_move_seq(store: ControlStore) -> int:
    moves = store.alias_history()
    return int(moves[-1]["seq"]) if moves else 0


def registry_snapshot(store: ControlStore, recent: int = 20) -> dict:
    """Champion, challenger, versions and the most recent alias moves."""
    import pandas as pd  # here, not at the top: the registry sensor imports this module and ticks without pandas

    versions = store.list_model_versions()
    moves = store.alias_history()
    table = pd.DataFrame(
        [
            {"at": m["at"], "alias": m["alias"], "kind": m["kind"], "from": m["from_version"] or "-", "to": m["to_version"], "by": m["by"], "reason": m["reason"]}
            for m in moves[-recent:][::-1]
        ]
    )
    return {
        "champion": store.current_alias("champion"),
        "challenger": store.current_alias("challenger"),
        "versions": len(versions),
        "approved_versions": sum(1 for v in versions if store.approvals_for(v["version"])),
        "alias_moves": len(moves),
        "last_move_seq": int(moves[-1]["seq"]) if moves else 0,
        "recent_moves": table,
    }


def rescore_days_on_promotion(environ: dict | None = None) -> int:
    """How many of the latest decided days to rescore when the champion moves (0: off, the default)."""
    raw = (environ if environ is not None else os.environ).get(RESCORE_ENV, "0").strip() or "0"
    if not raw.isdigit():
        raise ValueError(f"{RESCORE_ENV} must be a whole number of days, found {raw!r}")
    return int(raw)


def champion_moved(moves: list[dict], after_seq: int) -> bool:
    return any(m["alias"] == "champion" and int(m["seq"]) > after_seq for m in moves)


def days_to_rescore(recent_days: list[str], scored_by: dict[str, str | None], champion: str | None) -> list[str]:
    """Of the recent decided days, those a rescore would change: scored by another model than the champion now.

    `scored_by`: the model_version each day's latest scores record (NO_MODEL
    when the fallback rules decided it); a day missing from it is rescored.
    Days the new champion already scored (decided after it was promoted, or
    a first promotion seen late) are left as they are.
    """
    now_scoring = champion or NO_MODEL
    return [day for day in recent_days if scored_by.get(day) != now_scoring]
