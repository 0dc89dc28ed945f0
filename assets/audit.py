"""Audit: the append-only, hash-chained ledger of every decision and the runs behind it."""


import datetime as dt
import json

import dagster as dg

from assets.constants import DAILY_PARTITIONS, GROUP_AUDIT, OWNER_RISK, WAREHOUSE_POOL
from keel.code_version import git_commit
from resources.warehouse import WarehouseResource

LEDGER_STEPS = ("raw_applications", "application_features", "scores", "decisions")
# A day's decisions are read, hashed and written this many rows at a time.
LEDGER_ROWS_PER_FRAME = 250_000

# model_version and score are those the route was decided on: the challenger's for the share of
# applications a policy rollout gives it (decisions.decided_by_model), the champion's otherwise.
DECISION_ROWS_SQL = """
select d.application_id, cast(d.application_date as varchar) as application_date,
       f.source_file, f.source_sha256, f.source_row_number, f.raw_row_hash,
       sha256(concat_ws('|', f.seniority_years, f.home, f.loan_term_months, f.age, f.marital, f.has_records, f.job,
                        f.expenses, f.income, f.assets, f.debt, f.amount, f.price, f.loan_to_price,
                        f.installment_to_income)) as feature_row_hash,
       coalesce(d.decided_by_model, d.model_version) as model_version, d.policy_version, d.p_bad as score,
       d.reason_codes, d.route, d.decided_by,
       case when d.route = 'review' then 'pending' else d.route end as final_decision
from decisioning.decisions d
join marts.application_features f using (application_id)
where d.application_date = cast(? as date)
order by d.application_id
"""


KNOWN_OUTCOMES_SQL = """
select o.application_id, d.application_date, o.status, o.source_file, o.source_sha256, o.source_row_number
from raw.outcomes o join decisioning.decisions d using (application_id)
"""


def _append_outcome_events(con, run_id: str, now: str) -> list[str]:
    """Repayment outcomes known so far, one cumulative batch per application day that changed."""
    from keel.ledger_events import OUTCOME, outcome_event_rows
    from keel.ledger_store import append_batch
    from keel.warehouse import table_exists

    if not table_exists(con, "raw", "outcomes"):
        return []
    appended = []
    for day, rows in outcome_event_rows(con.execute(KNOWN_OUTCOMES_SQL).df()).items():
        if append_batch(con, rows, day, OUTCOME, run_id, now) is not None:
            appended.append(day)
    return appended


def _latest_materialization(instance: dg.DagsterInstance, asset: str, day: str):
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[day]), limit=1).records
    return records[0] if records else None


@dg.asset(
    name="decision_ledger",
    partitions_def=DAILY_PARTITIONS,
    deps=[dg.AssetKey("decisions"), dg.AssetKey("review_queue"), dg.AssetKey("raw_outcomes")],
    group_name=GROUP_AUDIT,
    owners=[OWNER_RISK],
    kinds={"duckdb", "python"},
    code_version="2",
    pool=WAREHOUSE_POOL,
    description=(
        "The audit trail of the day's decisions: for each application, the source file and row it came "
        "from, hashes of its raw and feature rows, the model, policy, contract and code versions, the "
        "Dagster runs of each step, the score, the rules that fired and the route; repayment outcomes as they "
        "land, as outcome events. Append-only and "
        "hash-chained day to day, so `keel audit verify` can prove nothing was altered."
    ),
)
def decision_ledger(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from keel.ledger_store import append_batch_in_order
    from keel.warehouse import fetch_one, query_frames

    day = context.partition_key
    steps: dict[str, str | None] = {}
    code_versions: dict[str, str | None] = {}
    contract_version = None
    for asset in LEDGER_STEPS:
        record = _latest_materialization(context.instance, asset, day)
        materialization = record.asset_materialization if record else None
        steps[asset] = record.run_id if record else None
        code_versions[asset] = (materialization.tags or {}).get("dagster/code_version") if materialization else None
        if asset == "raw_applications" and materialization is not None:
            contract_version = getattr(materialization.metadata.get("contract_version"), "value", None)
    steps["decision_ledger"] = context.run_id
    # The same on every row of the day: hashed as part of every row, staged once.
    same_on_every_row = {
        "contract_version": contract_version,
        "code_version": json.dumps({"git": git_commit(), "assets": code_versions}, sort_keys=True),
        "run_ids": json.dumps(steps, sort_keys=True),
    }
    with warehouse.connect() as con:
        now = dt.datetime.now(dt.timezone.utc).isoformat()
        # The day's rows stream from a second cursor a frame at a time while the batch is written on the first.
        reader = con.cursor()
        try:
            frames = query_frames(reader, DECISION_ROWS_SQL, [day], rows_per_frame=LEDGER_ROWS_PER_FRAME)
            batch = append_batch_in_order(con, frames, day, "decision", context.run_id, now, same_on_every_row)
        finally:
            reader.close()
        day_rows = fetch_one(con, "select count(*) from decisioning.decisions where application_date = cast(? as date)", [day])[0]
        outcome_days = _append_outcome_events(con, context.run_id, now)
        total = fetch_one(con, "select count(*) from audit.ledger_batches")[0]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(int(day_rows)),
            "appended": batch is not None,
            "batch_digest": batch.digest if batch else "unchanged: nothing appended",
            "ledger_batches": dg.MetadataValue.int(int(total)),
            "outcome_events_appended_for": ", ".join(outcome_days) or "none",
        }
    )
