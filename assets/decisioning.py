"""Decisioning: score each day's applications and route them by the versioned policy."""


import dagster as dg
import numpy as np

from assets.constants import (
    CHECK_MODEL_AVAILABLE,
    CHECK_ROUTES_COMPLETE,
    DAILY_PARTITIONS,
    GROUP_DECISIONING,
    OWNER_RISK,
    WAREHOUSE_POOL,
)
from keel import decisioning
from keel.columns import ROUTES
from keel import warehouse as wh
from resources.control_store import ControlStoreResource
from resources.keel_home import KeelHomeResource
from resources.warehouse import WarehouseResource

FEATURES_SQL = "select * from marts.application_features where application_date = cast(? as date) order by application_id"
DECISION_ROWS_PER_FRAME = 500_000
# What the routes-complete check and the metadata need, counted in the stored decisions of the day.
DAY_DECISION_COUNTS_SQL = f"""
select (select count(*) from marts.application_features where application_date = cast(? as date)),
       count(*), count(distinct application_id),
       {", ".join(f"count(*) filter (where route = '{route}')" for route in ROUTES)},
       count(*) filter (where decided_by = 'fallback_rules'),
       count(*) filter (where qa_sampled),
       count(*) filter (where decided_by_model is not null and decided_by_model is distinct from model_version)
from decisioning.decisions where application_date = cast(? as date)
"""


@dg.asset(
    name="scores",
    partitions_def=DAILY_PARTITIONS,
    deps=[dg.AssetKey("application_features"), dg.AssetKey("candidate_model")],
    group_name=GROUP_DECISIONING,
    owners=[OWNER_RISK],
    kinds={"scikitlearn", "duckdb"},
    code_version="2",
    pool=WAREHOUSE_POOL,
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_MODEL_AVAILABLE,
            asset="scores",
            description="The champion model was found, its artifact matched its recorded hash, and it scored every application.",
        )
    ],
    description=(
        "The champion model's probability of bad repayment (p_bad) for each application of the day, "
        "with the model version that produced it. Empty scores mean the model was unavailable and "
        "the policy's fallback rules decide. When a challenger is set, it is scored in shadow "
        "(challenger_p_bad) and its agreement with the champion's decisions is metadata."
    ),
)
def scores(
    context: dg.AssetExecutionContext,
    keel_home: KeelHomeResource,
    warehouse: WarehouseResource,
    control_store: ControlStoreResource,
):
    day = context.partition_key
    with warehouse.connect() as con:
        features = wh.query_frame(con, FEATURES_SQL, [day])
    store = control_store.open()
    scored = decisioning.score_day(features, store, keel_home.home)
    with warehouse.connect() as con:
        wh.replace_rows(con, "decisioning", "scores", scored.frame, "application_date", [day])
    shadow = decisioning.shadow_comparison(features, scored.frame, store) if scored.challenger_version else None
    challenger = {"challenger_version": scored.challenger_version or scored.challenger_reason or "none"}
    if shadow:
        challenger.update(
            challenger_agreement=dg.MetadataValue.float(round(shadow["agreement"], 4)),
            decision_flips=dg.MetadataValue.int(shadow["decision_flips"]),
            challenger_flips=dg.MetadataValue.json(shadow["flips"]),
        )
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(len(scored.frame)),
            "model_version": scored.model_version or "unavailable",
            "model_available": scored.model_available,
            "mean_p_bad": dg.MetadataValue.float(float(np.nanmean(scored.frame["p_bad"])) if scored.model_available and len(scored.frame) else 0.0),
            **challenger,
        }
    )
    yield dg.AssetCheckResult(
        check_name=CHECK_MODEL_AVAILABLE,
        passed=scored.model_available,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None if scored.model_available else f"model unavailable, fallback rules decide: {scored.unavailable_reason}",
        metadata={"model_version": scored.model_version or "unavailable"},
    )


@dg.asset(
    name="decisions",
    partitions_def=DAILY_PARTITIONS,
    deps=[scores],
    group_name=GROUP_DECISIONING,
    owners=[OWNER_RISK],
    kinds={"python", "duckdb"},
    code_version="2",
    pool=WAREHOUSE_POOL,
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_ROUTES_COMPLETE,
            asset="decisions",
            blocking=True,
            description="Every scored application got exactly one route (approve, decline or review) and a policy version.",
        )
    ],
    description=(
        "The route of each application under the versioned decision policy: approved or declined "
        "automatically, or sent to a human reviewer, with the reason codes of every rule that fired."
    ),
)
def decisions(context: dg.AssetExecutionContext, keel_home: KeelHomeResource, warehouse: WarehouseResource, control_store: ControlStoreResource):
    day = context.partition_key
    policy = decisioning.current_policy()
    with warehouse.connect() as con:
        # The day is read, routed and written a frame at a time: a ten-million-row day never sits in memory whole.
        reader = con.cursor()
        try:
            routed = decisioning.decide_day_in_frames(reader, day, control_store.open(), policy, rows_per_frame=DECISION_ROWS_PER_FRAME)
            wh.replace_rows_in_frames(con, "decisioning", "decisions", routed, "application_date", [day])
        finally:
            reader.close()
        counts = wh.fetch_one(con, DAY_DECISION_COUNTS_SQL, [day, day])
    applications, decided, distinct_ids, *per_route, by_fallback, qa_sampled, by_challenger = (int(n) for n in counts)
    route_counts = dict(zip(ROUTES, per_route))
    complete = decided == applications == distinct_ids == sum(route_counts.values())
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(decided),
            "policy_version": policy.version,
            **{f"routed_{route}": dg.MetadataValue.int(n) for route, n in route_counts.items()},
            "decided_by_fallback": dg.MetadataValue.int(by_fallback),
            "qa_sampled": dg.MetadataValue.int(qa_sampled),
            "decided_by_challenger": dg.MetadataValue.int(by_challenger),
            "review_rate": dg.MetadataValue.float(round(route_counts["review"] / max(decided, 1), 4)),
        }
    )
    yield dg.AssetCheckResult(
        check_name=CHECK_ROUTES_COMPLETE,
        passed=bool(complete),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"applications": applications, "decisions": decided},
    )
