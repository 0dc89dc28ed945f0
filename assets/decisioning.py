"""Decisioning: score each day's applications and route them by the versioned policy."""


import dagster as dg

from assets.constants import (
    CHECK_MODEL_AVAILABLE,
    CHECK_ROUTES_COMPLETE,
    DAILY_PARTITIONS,
    GROUP_DECISIONING,
    OWNER_RISK,
    WAREHOUSE_POOL,
)
from keel.columns import ROUTES
from keel.read_ahead import read_ahead
from keel.scoring import NO_MODEL, SCORE_CHUNK_ROWS
from resources.control_store import ControlStoreResource
from resources.keel_home import KeelHomeResource
from resources.warehouse import WarehouseResource

# Frames of a quarter million: the next is read and routed while this one is written (keel.read_ahead).
DECISION_ROWS_PER_FRAME = 250_000
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
    from keel import decisioning
    from keel import warehouse as wh

    day = context.partition_key
    store = control_store.open()
    models = decisioning.DayModels.load(store, keel_home.home)
    tally = decisioning.ScoringTally()
    with warehouse.connect() as con:
        # Features are read, scored and written a frame at a time: a ten-million-row day never sits in memory whole.
        reader = con.cursor()
        try:
            # The model predicts SCORE_CHUNK_ROWS at a time anyway; a frame of that size keeps the step's memory flat.
            scored = decisioning.score_day_in_frames(reader, day, models, store, tally, rows_per_frame=SCORE_CHUNK_ROWS)
            wh.replace_rows_in_frames(con, "decisioning", "scores", scored, "application_date", [day])
        finally:
            reader.close()
    model_available = models.champion is not None
    challenger = {"challenger_version": models.challenger.version if models.challenger else models.challenger_reason or "none"}
    if tally.shadow:
        shadow = tally.shadow.result()
        challenger.update(
            challenger_agreement=dg.MetadataValue.float(round(shadow["agreement"], 4)),
            decision_flips=dg.MetadataValue.int(shadow["decision_flips"]),
            challenger_flips=dg.MetadataValue.json(shadow["flips"]),
        )
    model_version = models.champion.version if models.champion else NO_MODEL
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(tally.rows),
            "model_version": model_version,
            "model_available": model_available,
            "mean_p_bad": dg.MetadataValue.float(tally.mean_p_bad if model_available else 0.0),
            **challenger,
        }
    )
    yield dg.AssetCheckResult(
        check_name=CHECK_MODEL_AVAILABLE,
        passed=model_available,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"{day}: champion {model_version} (artifact matched its sha256) scored {tally.rows} applications"
        if model_available
        else f"{day}: model unavailable, fallback rules decide: {models.unavailable_reason}",
        metadata={"model_version": model_version},
    )


@dg.asset(
    name="decisions",
    partitions_def=DAILY_PARTITIONS,
    deps=[scores],
    group_name=GROUP_DECISIONING,
    owners=[OWNER_RISK],
    kinds={"python", "duckdb"},
    code_version="3",
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
    from keel import decisioning
    from keel import warehouse as wh

    day = context.partition_key
    policy = decisioning.current_policy()
    with warehouse.connect() as con:
        # The day is read, routed and written a frame at a time: a ten-million-row day never sits in memory whole.
        reader = con.cursor()
        try:
            routed = decisioning.decide_day_in_frames(reader, day, control_store.open(), policy, rows_per_frame=DECISION_ROWS_PER_FRAME)
            wh.replace_rows_in_frames(con, "decisioning", "decisions", read_ahead(routed), "application_date", [day])
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
        description=f"{day}: each of {applications} applications has one route under policy {policy.version}"
        if complete
        else f"{day}: {applications} applications in the feature mart, {decided} decisions for {distinct_ids} of them, "
        f"{sum(route_counts.values())} with a route: each needs exactly one",
        metadata={"applications": applications, "decisions": decided},
    )
