"""Model: the labelled training set and the candidate credit-risk model it trains."""


import json

import dagster as dg

from assets.constants import GROUP_MODEL, OWNER_RISK, WAREHOUSE_POOL
from keel import model_lifecycle
from keel import warehouse as wh
from resources.control_store import ControlStoreResource
from resources.keel_home import KeelHomeResource
from resources.warehouse import WarehouseResource

TRAINING_SET_SQL = """
select f.*, o.repayment_status, o.is_bad, o.outcome_date
from marts.application_features f
join staging.stg_outcomes o using (application_id)
order by f.application_id
"""


@dg.asset(
    name="training_set",
    deps=[dg.AssetKey("application_features"), dg.AssetKey("stg_outcomes")],
    group_name=GROUP_MODEL,
    owners=[OWNER_RISK],
    kinds={"duckdb", "python"},
    code_version="1",
    pool=WAREHOUSE_POOL,
    description=(
        "Every application whose repayment outcome is known, with its features and the good/bad label: "
        "what the credit-risk model learns from. Joined as of the outcomes landed so far."
    ),
)
def training_set(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        con.execute("create schema if not exists model")
        con.execute(f"create or replace table model.training_set as {TRAINING_SET_SQL}")
        rows, bad_rate, first_day, last_day = wh.fetch_one(
            con, "select count(*), avg(is_bad), min(application_date), max(application_date) from model.training_set"
        )
    if not rows:
        raise dg.Failure("no application has a known repayment outcome yet: land and ingest outcomes before training")
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(rows),
            "bad_rate": dg.MetadataValue.float(round(float(bad_rate), 4)),
            "window_start": str(first_day),
            "window_end": str(last_day),
        }
    )


@dg.asset(
    name="candidate_model",
    deps=[training_set],
    group_name=GROUP_MODEL,
    owners=[OWNER_RISK],
    kinds={"scikitlearn", "python"},
    code_version=model_lifecycle.TRAINING_CODE_VERSION,
    pool=WAREHOUSE_POOL,
    description=(
        "A credit-risk model trained on the training set: a scikit-learn Pipeline with calibrated "
        "probabilities of bad repayment, stored by the hash of its bytes and registered as a candidate. "
        "It decides nothing until a person approves it and it is promoted to champion."
    ),
)
def candidate_model(
    context: dg.AssetExecutionContext,
    keel_home: KeelHomeResource,
    warehouse: WarehouseResource,
    control_store: ControlStoreResource,
) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        frame = con.execute("select * from model.training_set order by application_id").df()
    registered = model_lifecycle.train_and_register(
        frame,
        home=keel_home.home,
        store=control_store.open(),
        run_id=context.run_id,
    )
    context.log.info(f"candidate model {registered.version}: {registered.metrics}")
    return dg.MaterializeResult(
        metadata={
            "model_version": registered.version,
            "artifact_sha256": registered.artifact_sha256,
            "dagster/row_count": dg.MetadataValue.int(len(frame)),
            **{f"holdout_{k}": dg.MetadataValue.float(float(v)) for k, v in registered.metrics.items() if isinstance(v, (int, float))},
            "gate_passed": registered.gate_passed,
            "gate_failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in registered.gate_failures) or "none"),
            "model_card": dg.MetadataValue.md(registered.model_card),
            "metrics": dg.MetadataValue.json(json.loads(json.dumps(registered.metrics, default=str))),
        }
    )
