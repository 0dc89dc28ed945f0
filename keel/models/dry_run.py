"""What a promotion or a rollback would change, before anything moves.

The recorded features of the last N decided days are scored again with the
model that would become champion and decided again by the policy in force;
each application whose route would change is a flip. The result counts flips
by (route now -> route then) and by day, so the person about to move the
champion alias sees the consequence in decisions, not just in metrics.
"""

from __future__ import annotations

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


def decision_flips(home: KeelHome, to_version: str, days: int = 7) -> dict:
    """Re-decide the last `days` decided days with `to_version`; the flips against what was decided."""
    from keel.decisioning import current_policy, training_profile_for
    from keel.policy import decide
    from keel.scoring import CHAMPION, score

    store = ControlStore(home.control_store)
    with wh.connect(home.warehouse, read_only=True) as con:
        recent = [str(row[0]) for row in con.execute(
            f"select distinct cast({APPLICATION_DATE} as date) as d from decisioning.decisions order by d desc limit ?", [days]
        ).fetchall()]
        if not recent:
            raise LookupError("no decided days yet: nothing to compare")
        marks = ", ".join("cast(? as date)" for _ in recent)
        features = con.execute(
            f"select * from marts.application_features where cast({APPLICATION_DATE} as date) in ({marks}) order by {APPLICATION_ID}", recent
        ).df()
        recorded = con.execute(
            f"select {APPLICATION_ID}, cast({APPLICATION_DATE} as date) as day, route, model_version from decisioning.decisions "
            f"where cast({APPLICATION_DATE} as date) in ({marks}) order by {APPLICATION_ID}",
            recent,
        ).df()
    pipeline = _load_version(store, home, to_version)
    decided = decide(features, score(pipeline, features), current_policy(), training_profile=training_profile_for(store, to_version))
    merged = merge_one_to_one(recorded, decided[[APPLICATION_ID, "route"]].rename(columns={"route": "new_route"}), on=APPLICATION_ID)
    return {"from_version": store.current_alias(CHAMPION), "to_version": to_version, "days": sorted(recent), **route_flips(merged)}


def flips_text(result: dict) -> str:
    lines = [
        f"dry run: champion {result['from_version']} -> {result['to_version']} over {len(result['days'])} days "
        f"({result['days'][0]} .. {result['days'][-1]}), {result['applications']} applications: {result['flipped']} would change route"
    ]
    lines += route_flip_lines(result)
    lines.append("nothing was moved (--dry-run)")
    return "\n".join(lines)
