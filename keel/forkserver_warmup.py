"""Imports the executor's forkserver makes while the first step of a run works.

The multiprocess executor forks each step from a server that imported keel
once (definitions.PRELOADED), before the first step could start. Some steps
import more when they run: Great Expectations (the feature expectations),
matplotlib (the monitoring report), dbt's runner (the dbt step), over 2 s
together on this machine, each time in the step that needs it, while
the run waits. Preloading them too would only move that wait before the
first step. Named in the preload list, this module has the forkserver import
them right after it has forked its first step: the import and that step
(ingest, seconds on a large day) then run on two cores at once, and every
later step is forked with them imported.

The import runs in the forkserver's only thread, between two forks, so no
child is forked while another thread holds an import lock. A module that
fails to import is left to the step that needs it, to fail there with its
own error, as the forkserver's preload does.
"""

from __future__ import annotations

import importlib
import os

IMPORTED_AFTER_FIRST_FORK = (
    "great_expectations",
    "great_expectations.core.expectation_suite",
    "great_expectations.execution_engine.pandas_execution_engine",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "dbt.cli.main",
    "dbt.adapters.duckdb.connections",
    # dagster-dbt's column lineage (sqlglot) and dbt's result tables (agate), in the dbt step.
    "sqlglot.dialects.duckdb",
    "dbt_common.clients.agate_helper",
    # What every step imports as it opens the instance from its reference
    # (its storage's root, secrets, compute logs; universal_pathlib).
    "dagster._core.instance.factory",
    "dagster._core.secrets.env_file",
    "dagster._core.storage.local_compute_log_manager",
    "dagster._core.storage.migration.utils",
    "dagster._core.storage.root",
    "upath.implementations.local",
    "watchdog.observers.polling",
)

_IMPORTING_PROCESS = os.getpid()
_imported = False


def import_after_first_fork() -> None:
    """In the process that imported this module, after its first fork: import the rest, once."""
    global _imported
    if _imported or os.getpid() != _IMPORTING_PROCESS:
        return  # a later fork, or a child: children fork too (the dbt step) and must not import here
    _imported = True
    # As keel.quality.expectations sets before its import: no usage reports from a pipeline.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    for name in IMPORTED_AFTER_FIRST_FORK:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the step that needs it reports the error
            continue


os.register_at_fork(after_in_parent=import_after_first_fork)
