"""Sensors and jobs of the model registry workflow: alias moves made in the control store show in Dagster.

`keel model promote`, `rollback` and approvals write to the control store, not
to Dagster. The registry sensor notices a new alias move (by its sequence
number) and materializes `model_registry`, so every move appears in the
asset's history in the UI; when KEEL_RESCORE_DAYS_ON_PROMOTION is N > 0 and the
champion moved, it also requests the daily job for those of the last N decided
days that another model scored.
"""

from __future__ import annotations

import dagster as dg

from keel.control_store import ControlStore
from keel.home import KeelHome
from keel.pipeline import DAILY_JOB
from keel.registry_view import champion_moved, days_to_rescore, rescore_days_on_promotion
from sensors.jobs import daily_decisioning_job

REGISTRY_JOB = "record_model_registry"

registry_job = dg.define_asset_job(
    REGISTRY_JOB,
    selection=dg.AssetSelection.assets("model_registry"),
    description="Record the model registry as it stands (champion, challenger, alias moves) on the model_registry asset.",
)


@dg.sensor(
    name="model_registry_sensor",
    jobs=[registry_job, daily_decisioning_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Notices alias moves in the control store (keel model promote / rollback) and records them on the "
        "model_registry asset; with KEEL_RESCORE_DAYS_ON_PROMOTION=N it also rescores those of the last N "
        "decided days another model scored after the champion moves."
    ),
)
def model_registry_sensor(context: dg.SensorEvaluationContext):
    home = KeelHome.from_env()
    if not home.control_store.exists():
        return dg.SensorResult(skip_reason="no control store yet")
    store = ControlStore(home.control_store)
    moves = store.alias_history()
    last = int(moves[-1]["seq"]) if moves else 0
    seen = int(context.cursor or 0)
    if last <= seen:
        return dg.SensorResult(skip_reason="no new alias move", cursor=str(last))
    requests = [dg.RunRequest(run_key=f"registry:{last}", job_name=REGISTRY_JOB, tags={"keel/trigger": "model_registry_sensor"})]
    days = rescore_days_on_promotion()
    if days and champion_moved(moves, seen):
        recent = sorted(context.instance.get_materialized_partitions(dg.AssetKey("decisions")))[-days:]
        stale = days_to_rescore(recent, _scored_by(context.instance, recent), store.current_alias("champion"))
        if len(stale) < len(recent):
            context.log.info(f"not rescored, the champion already scored them: {sorted(set(recent) - set(stale))}")
        requests += [
            dg.RunRequest(run_key=f"rescore:{last}:{day}", job_name=DAILY_JOB, partition_key=day, tags={"keel/trigger": "rescore-after-promotion"})
            for day in stale
        ]
    return dg.SensorResult(run_requests=requests, cursor=str(last))


def _scored_by(instance: dg.DagsterInstance, days: list[str]) -> dict[str, str]:
    """The model_version each day's latest scores materialization records (days never scored are absent)."""
    scored_by = {}
    for day in days:
        records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey("scores"), asset_partitions=[day]), limit=1).records
        materialization = records[0].asset_materialization if records else None
        version = materialization.metadata.get("model_version") if materialization else None
        if version is not None:
            scored_by[day] = str(getattr(version, "value", version))
    return scored_by


JOBS: list = [registry_job]
SENSORS: list = [model_registry_sensor]
