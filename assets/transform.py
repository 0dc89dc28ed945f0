"""Transform: dbt's staging and feature mart, built per day in one dbt invocation."""


import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from assets.constants import DAILY_PARTITIONS, GROUP_TRANSFORM, OWNER_DATA, WAREHOUSE_POOL
from resources.dbt import dbt_project, release_duckdb_connection
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


TRANSLATOR = KeelDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_code_references=False)
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
def dbt_transform(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """Staging views and the application_features mart for the run's partition window."""
    window = context.partition_time_window
    # The last day of a window is exclusive in Dagster, inclusive in the dbt macro.
    start = window.start.date().isoformat()
    end = (window.end.date() - __import__("datetime").timedelta(days=1)).isoformat()
    os.environ["KEEL_WAREHOUSE"] = warehouse.path
    build_vars = json.dumps({"start_date": start, "end_date": end})
    # A scratch target per invocation, removed afterwards: dbt writes ~1.6 MB of
    # compiled SQL and artifacts per run, which would pile up in the project.
    # Column schema and lineage (sqlglot over the compiled SQL) are fetched per model after it builds.
    with tempfile.TemporaryDirectory(prefix="keel-dbt-") as target:
        try:
            yield from dbt.cli(["build", "--vars", build_vars], context=context, target_path=Path(target)).stream().fetch_column_metadata()
        finally:
            release_duckdb_connection()
