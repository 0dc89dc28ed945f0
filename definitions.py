"""keel's Dagster definitions: the layers merged, nothing else."""

import dagster as dg

import assets
import resources.definitions
import sensors.definitions

# Each step runs in its own process (the multiprocess executor), forked from a
# server that has imported keel once: starting a step then costs a fork, not
# a fresh interpreter importing Dagster, dbt and keel (~3 s per step). The
# model code (scikit-learn, skops) is preloaded too: four steps of a day use it.
PRELOADED = ["definitions", "keel.models.training", "keel.models.artifacts"]
EXECUTOR = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": PRELOADED}}}, name="keel_multiprocess"
)

defs = dg.Definitions.merge(
    assets.defs, resources.definitions.defs, sensors.definitions.defs, dg.Definitions(executor=EXECUTOR)
)
