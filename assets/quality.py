"""Quality: expectation suites on the feature mart, run through Great Expectations as asset checks."""


import dagster as dg

from assets.constants import CHECK_FEATURE_EXPECTATIONS, WAREHOUSE_POOL
from resources.keel_home import KeelHomeResource
from resources.warehouse import WarehouseResource

DAYS_WHERE = " where application_date between cast(? as date) and cast(? as date) order by application_id"


@dg.asset_check(
    asset="application_features",
    name=CHECK_FEATURE_EXPECTATIONS,
    blocking=True,
    pool=WAREHOUSE_POOL,
    description=(
        "The day's feature mart meets the expectation suite kept in policies/expectations: enough "
        "applications, few missing values, plausible ranges and known categories. An error-level "
        "failure stops the day before scoring; a warn-level one is reported. GX Data Docs are linked."
    ),
)
def feature_expectations(context: dg.AssetCheckExecutionContext, keel_home: KeelHomeResource, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    from keel import warehouse as wh
    from keel.decisioning import FEATURES_MART
    from keel.quality import validate_frame
    from keel.quality.expectations import FEATURE_SUITE, load_suite_config, suite_columns

    days = context.partition_keys
    with warehouse.connect() as con:
        columns = suite_columns(load_suite_config(FEATURE_SUITE), wh.table_columns(con, *FEATURES_MART))
        frame = wh.query_frame(con, wh.select_columns_sql(*FEATURES_MART, columns) + DAYS_WHERE, [days[0], days[-1]])
    # Not "D1..D2": GX parses a run name as a date for its Data Docs title, and that one breaks it.
    run_name = days[0] if len(days) == 1 else f"{days[0]}_to_{days[-1]}"
    reports = keel_home.home.reports
    outcome = validate_frame(frame, FEATURE_SUITE, reports / "data_docs", run_name=run_name, results_dir=reports / "expectation_results")
    metadata = {
        "suite": f"{outcome.suite_name} {outcome.suite_version}",
        "rows_validated": dg.MetadataValue.int(len(frame)),
        **{f"expectations_{k}": dg.MetadataValue.int(v) for k, v in outcome.statistics.items()},
        "failed_expectations": dg.MetadataValue.md("\n".join(f"- [{o.severity}] {o.sentence()}" for o in outcome.failed) or "none"),
    }
    if outcome.docs_index is not None:
        metadata["data_docs"] = dg.MetadataValue.path(str(outcome.docs_index))
    if outcome.docs_page is not None:
        # This run's page stays where it is when later days are validated: an audit of the day opens it.
        metadata["data_docs_run"] = dg.MetadataValue.path(str(outcome.docs_page))
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR if outcome.severity == "error" else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=f"{run_name}: the {outcome.suite_name} suite's {len(outcome.outcomes)} expectations met on {len(frame)} rows"
        if outcome.success
        else f"{run_name}: " + "; ".join(o.sentence() for o in outcome.failed),
    )
