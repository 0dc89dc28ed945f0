"""What a change of the decision policy would do, before it is merged.

The policy file is versioned with the code: a change is reviewed like code
and, once it lands, decides the application days from its effective_date.
What a reviewer needs beside the diff is its consequence in decisions: the
last N decided days are decided again under the candidate file, with the
scores recorded on those days and the same rules the decisions step applies (the champion's scores, a challenger's
rollout share, the fallback when the model did not score the whole day),
and each application whose route would change is a flip. Nothing is written:
not the decisions, not the control store's record of the policy in force.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pandas as pd

from keel import warehouse as wh
from keel.columns import APPLICATION_DATE, APPLICATION_ID
from keel.control_store import ControlStore
from keel.frames import merge_one_to_one
from keel.home import KeelHome
from keel.policy import Policy
from keel.route_flips import route_flip_lines, route_flips
from keel.settings_diff import changed_settings


def changed_fields(in_force: Policy, candidate: Policy) -> dict[str, dict]:
    """Each setting whose value differs, by dotted name: {"thresholds.decline_at": {"from": 0.4, "to": 0.35}}."""
    ignored = {"path", "content_sha256"}

    def settings(policy: Policy) -> dict:
        return {name: value for name, value in dataclasses.asdict(policy).items() if name not in ignored}

    return changed_settings(settings(in_force), settings(candidate))


def policy_flips(
    home: KeelHome, in_force: Policy, candidate: Policy, days: int = 7, progress: Callable[[str], None] = lambda _day: None
) -> dict:
    """Decide the last `days` decided days again under `candidate`; the flips against the routes recorded (`progress`: each day)."""
    from keel.decisioning import DECISION_INPUTS_SQL, DayScoring, decide_rows

    store = ControlStore(home.control_store)
    with wh.connect(home.warehouse, read_only=True) as con:
        if not wh.table_exists(con, "decisioning", "decisions"):
            raise LookupError("no decided days yet: nothing to compare")
        recent = [str(row[0]) for row in con.execute(
            f"select distinct cast({APPLICATION_DATE} as date) as d from decisioning.decisions order by d desc limit ?", [days]
        ).fetchall()]
        if not recent:
            raise LookupError("no decided days yet: nothing to compare")
        compared = []
        for number, day in enumerate(sorted(recent), start=1):
            progress(f"day {number} of {len(recent)}, {day}")
            merged = wh.query_frame(con, DECISION_INPUTS_SQL, [day, day])
            decided = decide_rows(merged, DayScoring.of(merged), candidate, store)
            recorded = con.execute(
                f"select {APPLICATION_ID}, route, policy_version, policy_sha256 from decisioning.decisions "
                f"where cast({APPLICATION_DATE} as date) = cast(? as date)",
                [day],
            ).df()
            day_compared = merge_one_to_one(recorded, decided[[APPLICATION_ID, "route"]].rename(columns={"route": "new_route"}), on=APPLICATION_ID)
            compared.append(day_compared.assign(day=day))
    compared_days = pd.concat(compared, ignore_index=True)
    # The recorded routes are those of each day's own policy: where that was not
    # the one in force now, the flips include that change as well.
    recorded_under = (
        compared_days[["policy_version", "policy_sha256"]].drop_duplicates().sort_values(["policy_version", "policy_sha256"])
    )
    return {
        "in_force": in_force.record(),
        "recorded_under": [
            {"version": version, "sha256": sha256} for version, sha256 in recorded_under.itertuples(index=False)
        ],
        "candidate": candidate.record(include_path=True),
        "changed": changed_fields(in_force, candidate),
        "version_not_bumped": candidate.version == in_force.version and candidate.sha256 != in_force.sha256,
        "days": sorted(recent),
        **route_flips(compared_days),
    }


def policy_flips_text(result: dict) -> str:
    """What `keel policy dry-run` prints."""
    before, after = result["in_force"], result["candidate"]
    lines = [
        f"dry run: policy {before['version']} -> {after['version']} ({after.get('path')}) over {len(result['days'])} days "
        f"({result['days'][0]} .. {result['days'][-1]}), {result['applications']} applications: {result['flipped']} would change route"
    ]
    others = [p for p in result["recorded_under"] if p["sha256"] != before["sha256"]]
    if others:
        names = ", ".join(f"{p['version']} (sha256 {str(p['sha256'])[:12]})" for p in others)
        lines.append(f"  note: some of these days were decided under policy {names}, not the one in force: their flips include that change too")
    if result["version_not_bumped"]:
        lines.append(f"  note: the content changed but the version is still {after['version']}: bump `version` so decisions can tell the two apart")
    if not result["changed"]:
        lines.append("  no setting differs from the policy in force")
    lines += [f"  {name}: {change['from']!r} -> {change['to']!r}" for name, change in result["changed"].items()]
    lines += route_flip_lines(result)
    effective = after["effective_date"]
    if effective > result["days"][-1]:
        lines.append(
            f"  note: it takes effect on {effective}, after the last decided day: merged before then, the days before it "
            f"would be refused, not decided (merge it on {effective}, or keep {before['version']} in force until then)"
        )
    lines.append(f"nothing was changed (a dry run): merged into policies/, the policy decides application days from {effective}")
    return "\n".join(lines)
