"""The control plane (model versions, aliases, approvals, policies) as a resource."""

from __future__ import annotations

import dagster as dg

from keel.control_store import ControlStore


class ControlStoreResource(dg.ConfigurableResource):
    """SQLite in WAL mode locally; appended to, never updated in place."""

    path: str

    def open(self) -> ControlStore:
        return ControlStore(self.path)
