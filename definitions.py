"""keel's Dagster definitions: the layers merged, nothing else."""

import dagster as dg

import assets
import resources.definitions
import sensors.definitions
from keel.forkserver import PRELOADED, put_repository_on_pythonpath
from keel.log_mirror_watchers import keep_watchers_out_of_the_terminal_s_group
from keel.pool_wait import wait_without_spinning

# Each step runs in its own process, forked from a server that has imported
# keel once (keel.forkserver: what it preloads, and why).
put_repository_on_pythonpath()

# A run waiting for the warehouse pool's slot naps instead of spinning a core
# (keel.pool_wait): every process that runs keel's jobs loads this file.
wait_without_spinning()

# Ctrl-C at a terminal reaches the run, not Dagster's helpers that watch its
# log mirroring, which printed a traceback each (keel.log_mirror_watchers).
keep_watchers_out_of_the_terminal_s_group()

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
