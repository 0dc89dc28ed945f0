"""Sensors and jobs of the review workflow: inbox files and newly decided days update the final decisions.

The review sensor requests one run of review_decisions when reviewers' files
wait in KEEL_HOME/review/inbox, or when the daily job has decided
applications since the last run (their automatic decisions are final and
their review cases pending). `keel review ingest` runs the same job at once.
"""

from __future__ import annotations

import hashlib
import json
import time

import dagster as dg

from keel.home import KeelHome
from keel.pipeline import REVIEW_ASSETS, REVIEW_JOB
from keel.review.inbox_listing import inbox_files
from keel.settling import SETTLE_SECONDS

review_job = dg.define_asset_job(
    REVIEW_JOB,
    selection=dg.AssetSelection.assets(*REVIEW_ASSETS),
    description="Reviewers' inbox files into review_outcomes, then final_decisions for the days decided or reviewed since.",
)


def _latest_decisions_id(instance: dg.DagsterInstance) -> int:
    records = instance.fetch_materializations(dg.AssetKey("decisions"), limit=1).records
    return records[0].storage_id if records else 0


def _inbox_fingerprint(home: KeelHome) -> str:
    # Names and sizes are enough to tell a new inbox from the last one seen: files are never rewritten in place
    # once written. One still being written counts once it has settled, when its run will take it.
    files = inbox_files(home.review_inbox, now=time.time())
    listing = "\n".join(f"{path.name}:{path.stat().st_size}" for path in files)
    return hashlib.sha256(listing.encode()).hexdigest()[:16] if files else ""


@dg.sensor(
    name="review_sensor",
    job=review_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches KEEL_HOME/review/inbox for reviewers' decision files (JSON Lines) and the decisions asset for "
        "newly decided days; either starts review_decisions, which stores the good lines, sets the bad ones "
        f"aside with their reasons and rebuilds final_decisions. A file modified in the last {SETTLE_SECONDS:.0f} s "
        "may still be being written and waits."
    ),
)
def review_sensor(context: dg.SensorEvaluationContext):
    home = KeelHome.from_env()
    seen = json.loads(context.cursor) if context.cursor else {}
    inbox = _inbox_fingerprint(home)
    decided = _latest_decisions_id(context.instance)
    cursor = json.dumps({"inbox": inbox, "decisions": decided}, sort_keys=True)
    new_inbox = bool(inbox) and inbox != seen.get("inbox")
    new_decisions = decided > int(seen.get("decisions") or 0)
    if not (new_inbox or new_decisions):
        return dg.SensorResult(skip_reason="no new inbox file and no newly decided day", cursor=cursor)
    why = " and ".join(w for w, yes in (("inbox files waiting", new_inbox), ("new decisions", new_decisions)) if yes)
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"review:{inbox}:{decided}", tags={"keel/trigger": "review_sensor", "keel/reason": why})],
        cursor=cursor,
    )


JOBS: list = [review_job]
SENSORS: list = [review_sensor]
