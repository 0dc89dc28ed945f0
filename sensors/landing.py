"""The landing sensor: new or changed files in the landing zone start that day's run."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time

import dagster as dg

from assets.constants import DAILY_PARTITIONS
from keel.home import KeelHome
from keel.landing_watch import needing_a_run_of_their_own, plan_landing, skip_reason
from keel.landing_zone import REASON_SUFFIX
from keel.settling import SETTLE_SECONDS
from sensors.jobs import daily_decisioning_job, outcomes_job

JOB_FOR_SOURCE = {"applications": daily_decisioning_job, "outcomes": outcomes_job}
# Loads read per query of the event log when looking up the days' latest loads.
RECORDS_PER_QUERY = 1_000


def runs_that_loaded(instance: dg.DagsterInstance, source: str, days: list[str]) -> dict[str, tuple[str, list[str]]]:
    """For each of `days` loaded at all: the run of its latest load and the file hashes that load recorded (event log only).

    One query per RECORDS_PER_QUERY loads, newest first, rather than one per
    day: a first tick over a landing folder of many loaded days asks for all
    of them (17 days: 74 ms for the 17 queries, ~4 ms each, against 12 ms
    for one, a script on 2026-12-07; docs/benchmarks-history.md).
    """
    latest: dict[str, tuple[str, list[str]]] = {}
    wanted, cursor = set(days), None
    while wanted - latest.keys():
        found = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(f"raw_{source}"), asset_partitions=sorted(wanted - latest.keys())),
            limit=RECORDS_PER_QUERY,
            cursor=cursor,
        )
        for record in found.records:
            if record.partition_key in latest:
                continue
            loaded = record.asset_materialization.metadata.get("source_sha256") if record.asset_materialization else None
            # A run over a range of days records every file's hash, comma-separated.
            latest[record.partition_key] = (record.run_id, str(getattr(loaded, "value", loaded) or "").split(", "))
        if not found.has_more:
            break
        cursor = found.cursor
    return latest


def run_that_loaded(instance: dg.DagsterInstance, source: str, day: str, sha256: str) -> str | None:
    """The run whose load of the day is its latest and came from exactly this file; None otherwise (event log only)."""
    run_id, hashes = runs_that_loaded(instance, source, [day]).get(day, (None, []))
    return run_id if sha256 in hashes else None


@dg.sensor(
    name="landing_sensor",
    jobs=[daily_decisioning_job, outcomes_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches KEEL_HOME/landing for applications and outcomes files. A new file, or a changed file "
        "for a day already loaded, starts that day's run; the same file dropped again does nothing; a "
        "file with an invalid name or date is moved to landing/rejected with a reason beside it. A file "
        f"modified in the last {SETTLE_SECONDS:.0f} s may still be being written and waits for a later tick."
    ),
)
def landing_sensor(context: dg.SensorEvaluationContext):
    home = KeelHome.from_env()
    cursor = json.loads(context.cursor) if context.cursor else {}
    files = []
    for source in JOB_FOR_SOURCE:
        folder = home.landing_dir(source)
        if folder.exists():
            files.extend((source, path) for path in folder.iterdir() if path.is_file())
    # Dagster's first and last days (the last is today in UTC: the host's local date may be a day ahead).
    plan = plan_landing(
        files,
        cursor,
        latest_day=dt.date.fromisoformat(DAILY_PARTITIONS.get_last_partition_key()),
        earliest_day=dt.date.fromisoformat(DAILY_PARTITIONS.get_first_partition_key()),
        now=time.time(),
    )
    if plan.settling:
        context.log.info(f"modified in the last {SETTLE_SECONDS:.0f} s, taken on a later tick: {', '.join(plan.settling)}")
    for key, reason in plan.rejected:
        source, name = key.split("/", 1)
        home.landing_rejected.mkdir(parents=True, exist_ok=True)
        shutil.move(str(home.landing_dir(source) / name), str(home.landing_rejected / name))
        (home.landing_rejected / f"{name}{REASON_SUFFIX}").write_text(reason + "\n")
        context.log.warning(f"rejected {key}: {reason}")
    requests = []
    # A first sighting may be a file the CLI or an earlier run loaded before this sensor saw it: the latest
    # load of each such day, one query per source for the days loaded at all, one more for those days' loads.
    first_seen = [seen for seen in plan.new_files if seen.replaces is None]
    latest_loads = {}
    for source in {seen.source for seen in first_seen}:
        loaded_days = context.instance.get_materialized_partitions(dg.AssetKey(f"raw_{source}"))
        days = sorted({seen.day.isoformat() for seen in first_seen if seen.source == source} & loaded_days)
        latest_loads[source] = runs_that_loaded(context.instance, source, days) if days else {}

    def loaded_before(seen) -> bool:
        return seen.replaces is None and seen.sha256 in latest_loads[seen.source].get(seen.day.isoformat(), (None, []))[1]

    already_loaded = [seen for seen in plan.new_files if loaded_before(seen)]
    taken = set(already_loaded)
    own_runs, riding_along = needing_a_run_of_their_own([seen for seen in plan.new_files if seen not in taken])
    applications_file = {seen.day: seen.name for seen in own_runs if seen.source == "applications"}
    for seen in riding_along:
        context.log.info(f"{seen.name} goes in with the run of {applications_file[seen.day]}: the daily job takes both")
    for seen in own_runs:
        if seen.replaces:
            context.log.info(f"{seen.name} replaced content {seen.replaces[:12]} with {seen.sha256[:12]}: reloading {seen.day}")
        requests.append(
            dg.RunRequest(
                run_key=f"{seen.source}:{seen.name}:{seen.sha256}",
                job_name=JOB_FOR_SOURCE[seen.source].name,
                partition_key=seen.day.isoformat(),
                tags={
                    "keel/source_file": seen.name,
                    "keel/source_sha256": seen.sha256,
                    **({"keel/replaces_sha256": seen.replaces} if seen.replaces else {}),
                },
            )
        )
    return dg.SensorResult(
        run_requests=requests,
        skip_reason=None if requests else skip_reason(plan, sum(not path.name.startswith(".") for _, path in files), already_loaded),
        cursor=json.dumps(plan.cursor, sort_keys=True),
    )
