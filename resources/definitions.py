"""Resources bound to the KEEL_HOME of this process."""

from __future__ import annotations

import dagster as dg

from keel.home import KeelHome
from resources.control_store import ControlStoreResource
from resources.dbt import dbt_resource
from resources.keel_home import KeelHomeResource
from resources.warehouse import WarehouseResource


def build_resources(home: KeelHome | None = None) -> dict[str, object]:
    home = home or KeelHome.from_env()
    return {
        "keel_home": KeelHomeResource(root=str(home.root)),
        "warehouse": WarehouseResource(path=str(home.warehouse)),
        "control_store": ControlStoreResource(path=str(home.control_store)),
        "dbt": dbt_resource(json_schema_dir=home.dbt_state),
    }


defs = dg.Definitions(resources=build_resources())
