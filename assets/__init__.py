"""Dagster assets and asset checks, one module per layer of the decision process.

Each asset imports keel's data code (pandas, pyarrow, DuckDB, pandera) in its
body, not at its module's top: every code server and run worker loads
these definitions, and they load without those libraries
(docs/BENCHMARKS.md, "Profiling, and what changed"). The executor's
forkserver imports that code once for the steps (keel.forkserver.STEP_MODULES).
"""


import dagster as dg

from assets import audit, decisioning, ingest, model, monitoring, quality, review, transform

LAYERS = [ingest, transform, quality, model, decisioning, review, monitoring, audit]

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(LAYERS),
    asset_checks=dg.load_asset_checks_from_modules(LAYERS),
)
