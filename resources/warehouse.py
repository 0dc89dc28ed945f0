"""DuckDB warehouse handle. Every asset that opens it runs in the `warehouse` pool."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    import duckdb

WAREHOUSE_POOL = "warehouse"


class WarehouseResource(dg.ConfigurableResource):
    """The single DuckDB file that holds raw data, features, scores and decisions."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        from keel import warehouse  # DuckDB and pandas load with the step that opens the warehouse, not with the definitions

        with warehouse.connect(Path(self.path), read_only=read_only) as con:
            yield con
