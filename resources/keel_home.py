"""The KEEL_HOME a run works in, as a Dagster resource."""

from __future__ import annotations

import os

import dagster as dg

from keel.home import KeelHome


class KeelHomeResource(dg.ConfigurableResource):
    """Where this deployment keeps its warehouse, control store, models and landing zone."""

    root: str

    @property
    def home(self) -> KeelHome:
        return KeelHome(__import__("pathlib").Path(self.root))

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.home.ensure()
        # dbt's profile and any subprocess read the warehouse path from here.
        os.environ["KEEL_WAREHOUSE"] = str(self.home.warehouse)
