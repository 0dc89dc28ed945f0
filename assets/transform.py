"""Transform: dbt's staging and feature mart, built per day in one dbt invocation."""


import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from assets.constants import DAILY_PARTITIONS, GROUP_TRANSFORM, OWNER_DATA, WAREHOUSE_POOL
from keel.dbt_window import partition_window_env
from keel.landing_zone import days_named
from resources.dbt import dbt_project, release_duckdb_connection, scratch_target
from resources.dbt_events import dbt_events_without_busy_wait, with_days_on_dbt_test_results, with_column_metadata_of_built_nodes
from resources.keel_home import KeelHomeResource
from resources.warehouse import WarehouseResource


class KeelDbtTranslator(DagsterDbtTranslator):
    """dbt models in the transform group, owned by the data platform team."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        # Models are named for what they hold (application_features), not their schema.
        if dbt_resource_props["resource_type"] == "model":
            return dg.AssetKey(dbt_resource_props["name"])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return GROUP_TRANSFORM

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return [OWNER_DATA]


# dbt's tests on the raw sources are checks of the ingestion assets they test
# (raw_applications, raw_outcomes), shown beside the contract's checks; otherwise
# dbt still runs them but they surface only as observations, with a warning each.
TRANSLATOR = KeelDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_source_tests_as_checks=True, enable_code_references=False)
)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=TRANSLATOR,
    pool=WAREHOUSE_POOL,
    name="dbt_transform",
)
def dbt_transform(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, keel_home: KeelHomeResource):
    """Staging views and the application_features mart for the run's partition window."""
    window = context.partition_time_window
    os.environ["KEEL_WAREHOUSE"] = warehouse.path
    # The window reaches dbt as environment variables, not --vars: dbt reparses
    # the whole project whenever --vars change, but only the files that read
    # an environment variable when its value changes.
    os.environ.update(partition_window_env(window.start.date(), window.end.date()))
    # Column schema and lineage (sqlglot over the compiled SQL) are fetched per model after dbt finishes.
    # The scratch target is removed afterwards, so dbt does not write its JSON artifacts
    # (manifest.json twice, run_results.json): ~1 s of every invocation.
    with scratch_target(keel_home.home.dbt_state) as target, dbt_events_without_busy_wait():
        try:
            events = with_column_metadata_of_built_nodes(dbt.cli(["build", "--no-write-json"], context=context, target_path=target))
            yield from with_days_on_dbt_test_results(events, days_named(context.partition_keys))
        finally:
            release_duckdb_connection()
