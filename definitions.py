"""keel's Dagster definitions: the layers merged, nothing else."""

import dagster as dg

import assets
import resources.definitions
import sensors.definitions

defs = dg.Definitions.merge(assets.defs, resources.definitions.defs, sensors.definitions.defs)
