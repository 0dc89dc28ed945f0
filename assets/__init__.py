"""Dagster assets and asset checks, one module per layer of the decision process."""


import dagster as dg

from assets import audit, decisioning, ingest, model, review, transform

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([ingest, transform, model, decisioning, review, audit]),
)
