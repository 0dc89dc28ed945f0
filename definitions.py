"""keel's Dagster definitions: the layers merged, nothing else."""

import os
from pathlib import Path

import dagster as dg

import assets
import resources.definitions
import sensors.definitions

# Each step runs in its own process (the multiprocess executor), forked from a
# server that has imported keel once: starting a step then costs a fork, not
# a fresh interpreter importing Dagster, dbt and keel (~3 s per step). The
# instance's SQLite storage (SQLAlchemy, alembic) is preloaded too: every step
# opens the instance, and importing it cost each step ~0.7 s.
# What only some steps import (the model code, Great Expectations,
# matplotlib, dbt's runner) the forkserver imports after forking an earlier
# step, while that step works (keel.forkserver_warmup): the first step starts
# ~2 s sooner than with the model code preloaded.
# scipy.special comes first: skops, imported with the model code, looks up
# each of scipy's ufuncs in every module already imported, in import order;
# with scipy's modules ahead of Dagster's and dbt's, its import after them
# takes ~1.9 s instead of ~3.8 s. Dagster puts its executor module ahead of a
# preload list that does not name it, so the list names it, after scipy.
PRELOADED = [
    "scipy.special",
    "dagster._core.executor.multiprocess",
    "definitions",
    "dagster._core.storage.sqlite_storage",
    "keel.forkserver_warmup",
]
# The forkserver imports PRELOADED by name with only its working directory on
# sys.path, and silently skips what it cannot import. dbt changes the working
# directory of the process that runs it, so a later forkserver preloaded nothing
# and every step re-imported the definitions (~2 s each). The repository on
# PYTHONPATH makes the preload independent of the working directory.
_REPOSITORY = str(Path(__file__).resolve().parent)
if _REPOSITORY not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [_REPOSITORY, os.environ.get("PYTHONPATH")]))
# One step of a run at a time: every step of the daily job but the source
# freshness check (a tenth of a second) is in the one-writer `warehouse` pool,
# and the training job is a chain, so only that check could run beside
# another step. With more, the
# executor started a second step, found the pool taken and retried its claim
# after a back-off that grows by a tenth per try (up to 15 s): the step
# started up to seconds after the slot was free. Steps of concurrent runs
# still queue on the pool.
EXECUTOR = dg.multiprocess_executor.configured(
    {"max_concurrent": 1, "start_method": {"forkserver": {"preload_modules": PRELOADED}}}, name="keel_multiprocess"
)

defs = dg.Definitions.merge(
    assets.defs, resources.definitions.defs, sensors.definitions.defs, dg.Definitions(executor=EXECUTOR)
)
