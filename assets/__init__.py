"""Dagster assets and asset checks, one module per layer of the decision process."""


import dagster as dg

from assets import audit, decisioning, ingest, model, monitoring, quality, review, transform

LAYERS = [ingest, transform, quality, model, decisioning, review, monitoring, audit]

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(LAYERS),
    asset_checks=dg.load_asset_checks_from_modules(LAYERS),
)
