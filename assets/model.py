"""Model: the labelled training set and the candidate credit-risk model it trains."""


import json

import dagster as dg

from assets.constants import GROUP_MODEL, OWNER_RISK, WAREHOUSE_POOL
from keel import model_lifecycle
from keel.registry_view import registry_snapshot
from keel.scoring import CHAMPION
from keel.tables import markdown_table
from resources.control_store import ControlStoreResource
from resources.keel_home import KeelHomeResource
from resources.warehouse import WarehouseResource


@dg.asset(
    name="training_set",
    deps=[dg.AssetKey("application_features"), dg.AssetKey("stg_outcomes")],
    group_name=GROUP_MODEL,
    owners=[OWNER_RISK],
    kinds={"duckdb", "python"},
    code_version="2",
    pool=WAREHOUSE_POOL,
    description=(
        "Every application whose repayment outcome is known, with its features and the good/bad label: "
        "what the credit-risk model learns from. Joined as of the outcomes landed so far; an outcome the "
        "source corrected on a later day counts with its latest label."
    ),
)
def training_set(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from keel.models.training_set import write_training_set

    with warehouse.connect() as con:
        rows, bad_rate, first_day, last_day = write_training_set(con)
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
    store = control_store.open()
    registered = model_lifecycle.train_and_register(frame, home=keel_home.home, store=store, run_id=context.run_id)
    context.log.info(f"candidate model {registered.version}: {registered.metrics}")
    # Training is deterministic: before new outcomes land it gives the champion itself, nothing to approve.
    same_as_champion = registered.version == store.current_alias(CHAMPION)
    if same_as_champion:
        context.log.info(f"{registered.version} is the champion already: no outcomes have landed since it was trained")
    return dg.MaterializeResult(
        metadata={
            "model_version": registered.version,
            "artifact_sha256": registered.artifact_sha256,
            "dagster/row_count": dg.MetadataValue.int(len(frame)),
            **{f"holdout_{k}": dg.MetadataValue.float(float(v)) for k, v in registered.metrics.items() if isinstance(v, (int, float))},
            "gate_passed": registered.gate_passed,
            "same_as_champion": same_as_champion,
            "gate_failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in registered.gate_failures) or "none"),
            "model_card": dg.MetadataValue.md(registered.model_card),
            "metrics": dg.MetadataValue.json(json.loads(json.dumps(registered.metrics, default=str))),
        }
    )


@dg.asset(
    name="model_registry",
    group_name=GROUP_MODEL,
    owners=[OWNER_RISK],
    kinds={"python", "sqlite"},
    code_version="1",
    description=(
        "The model registry as it stands: which version is champion (deciding) and challenger, how many "
        "versions and approvals exist, and the latest alias moves with who, when and why. Materialized by the "
        "registry sensor after every promotion or rollback, so the moves show in this asset's history."
    ),
)
def model_registry(control_store: ControlStoreResource) -> dg.MaterializeResult:
    snapshot = registry_snapshot(control_store.open())
    moves = snapshot.pop("recent_moves")
    return dg.MaterializeResult(
        metadata={
            "champion": snapshot["champion"] or "none",
            "challenger": snapshot["challenger"] or "none",
            "versions": dg.MetadataValue.int(snapshot["versions"]),
            "approved_versions": dg.MetadataValue.int(snapshot["approved_versions"]),
            "alias_moves": dg.MetadataValue.int(snapshot["alias_moves"]),
            "recent_moves": dg.MetadataValue.md(markdown_table(moves) if len(moves) else "_no alias move yet_"),
        }
    )


@dg.asset(
    name="model_evaluation",
    deps=[candidate_model],
    group_name=GROUP_MODEL,
    owners=[OWNER_RISK],
    kinds={"python", "scikitlearn"},
    code_version="1",
    description=(
        "The new candidate against the champion on the same holdout, side by side: ROC AUC, PR AUC, Brier "
        "score, calibration error, approval and bad rates at the policy's thresholds, and approval rates by "
        "age band, home, marital status and job with each segment's ratio to the best-treated one; with the "
        "gate's verdict. What a person reads before `keel model approve`."
    ),
)
def model_evaluation(context: dg.AssetExecutionContext, control_store: ControlStoreResource) -> dg.MaterializeResult:
    from keel.models.evaluation_report import metrics_table, segments_table  # scikit-learn: not at definitions load

    event = context.instance.get_latest_materialization_event(dg.AssetKey("candidate_model"))
    version = event.asset_materialization.metadata["model_version"].value
    store = control_store.open()
    record = store.get_model_version(version) or {}
    candidate = record.get("metrics") or {}
    gate = record.get("gate") or {}
    champion = gate.get("champion")
    metrics = metrics_table(candidate, champion)
    figures = {
        f"{side}_{row.metric}": dg.MetadataValue.float(float(getattr(row, side)))
        for row in metrics.itertuples(index=False)
        for side in ("candidate", "champion")
        if getattr(row, side) is not None and getattr(row, side) == getattr(row, side)
    }
    return dg.MaterializeResult(
        metadata={
            "candidate_version": version,
            "champion_version": store.current_alias("champion") or "none",
            "gate_passed": bool(gate.get("passed")),
            "gate_failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in gate.get("failures") or []) or "none"),
            "comparison": dg.MetadataValue.md(markdown_table(metrics)),
            "segments": dg.MetadataValue.md(markdown_table(segments_table(candidate, champion))),
            **figures,
        }
    )
