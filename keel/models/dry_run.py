"""What a promotion or a rollback would change, before anything moves.

The recorded features of the last N decided days are scored again with the
model that would become champion and decided again by the policy in force;
each application whose route would change is a flip. The result counts flips
by (route now -> route then) and by day, so the person about to move the
champion alias sees the consequence in decisions, not just in metrics.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from keel import warehouse as wh
from keel.columns import APPLICATION_DATE, APPLICATION_ID
from keel.control_store import ControlStore
from keel.frames import merge_one_to_one
from keel.home import KeelHome
from keel.route_flips import route_flip_lines, route_flips


def _load_version(store: ControlStore, home: KeelHome, version: str):
    from keel.models.artifacts import ModelStore

    record = store.get_model_version(version)
    if record is None:
        raise LookupError(f"model {version} is not in the registry (keel model list shows the versions)")
    return ModelStore(home.models).load(version, record["artifact_sha256"])


def decision_flips(home: KeelHome, to_version: str, days: int = 7, progress: Callable[[str], None] = lambda _day: None) -> dict:
    """Re-decide the last `days` decided days with `to_version`; the flips against what was decided.

    A day at a time (`progress` is told which): a week of million-row days is
    never in memory at once, and each application's decision depends on its
    own row only, so the flips are those of the days taken together.
    """
    from keel.decisioning import current_policy, training_profile_for
    from keel.policy import decide
    from keel.scoring import CHAMPION, score

    store = ControlStore(home.control_store)
    with wh.connect(home.warehouse, read_only=True) as con:
        recent = sorted(str(row[0]) for row in con.execute(
            f"select distinct cast({APPLICATION_DATE} as date) as d from decisioning.decisions order by d desc limit ?", [days]
        ).fetchall())
        if not recent:
            raise LookupError("no decided days yet: nothing to compare")
        pipeline = _load_version(store, home, to_version)
        policy, profile = current_policy(), training_profile_for(store, to_version)
        compared = []
        for number, day in enumerate(recent, start=1):
            progress(f"day {number} of {len(recent)}, {day}")
            features = con.execute(
                f"select * from marts.application_features where cast({APPLICATION_DATE} as date) = cast(? as date) order by {APPLICATION_ID}", [day]
            ).df()
            recorded = con.execute(
                f"select {APPLICATION_ID}, route, model_version from decisioning.decisions "
                f"where cast({APPLICATION_DATE} as date) = cast(? as date) order by {APPLICATION_ID}",
                [day],
            ).df().assign(day=day)  # flips_by_day keyed by the day as `days` names it, as the policy dry run's
            decided = decide(features, score(pipeline, features), policy, training_profile=profile)
            compared.append(merge_one_to_one(recorded, decided[[APPLICATION_ID, "route"]].rename(columns={"route": "new_route"}), on=APPLICATION_ID))
    merged = pd.concat(compared, ignore_index=True)
    return {"from_version": store.current_alias(CHAMPION), "to_version": to_version, "days": recent, **route_flips(merged)}


def flips_text(result: dict) -> str:
    lines = [
        f"dry run: champion {result['from_version']} -> {result['to_version']} over {len(result['days'])} days "
        f"({result['days'][0]} .. {result['days'][-1]}), {result['applications']} applications: {result['flipped']} would change route"
    ]
    lines += route_flip_lines(result)
    lines.append("nothing was moved (--dry-run)")
    return "\n".join(lines)
