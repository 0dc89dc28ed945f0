"""Review: the cases the policy sends to a person, with what a reviewer needs to decide."""


import dagster as dg

from assets.constants import DAILY_PARTITIONS, GROUP_REVIEW, OWNER_OPS, WAREHOUSE_POOL
from keel import decisioning
from keel import warehouse as wh
from keel.tables import markdown_table
from resources.control_store import ControlStoreResource
from resources.keel_home import KeelHomeResource
from resources.warehouse import WarehouseResource


@dg.asset(
    name="review_queue",
    partitions_def=DAILY_PARTITIONS,
    deps=[dg.AssetKey("decisions")],
    group_name=GROUP_REVIEW,
    owners=[OWNER_OPS],
    kinds={"python", "duckdb"},
    code_version="1",
    pool=WAREHOUSE_POOL,
    description=(
        "The day's applications waiting for a human decision: each with its score, the features that "
        "pushed the score most, the rules that fired, the suggested decision and when it is due."
    ),
)
def review_queue(context: dg.AssetExecutionContext, keel_home: KeelHomeResource, warehouse: WarehouseResource, control_store: ControlStoreResource):
    day = context.partition_key
    with warehouse.connect() as con:
        features = con.execute(
            "select * from marts.application_features where application_date = cast(? as date) order by application_id", [day]
        ).df()
        day_decisions = con.execute(
            "select * from decisioning.decisions where application_date = cast(? as date) order by application_id", [day]
        ).df()
    queue = decisioning.build_review_queue(features, day_decisions, control_store.open(), keel_home.home, day)
    with warehouse.connect() as con:
        wh.replace_rows(con, "review", "review_queue", queue, "application_date", [day])
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(len(queue)),
            "queue": dg.MetadataValue.md(
                markdown_table(queue[["application_id", "p_bad", "suggested_decision", "reason_codes", "top_features", "due_by"]], 25)
                if len(queue)
                else "_nothing to review_"
            ),
        }
    )
