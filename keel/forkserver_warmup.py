"""Imports the executor's forkserver makes while the steps of a run work, and the day's models it loads.

The multiprocess executor forks each step from a server that imported keel
once (keel.forkserver.PRELOADED), before the first step could start. Some steps
import more when they run: the model code (scikit-learn, skops: the steps
from the scores on), Great Expectations (the feature expectations),
matplotlib (the monitoring report), dbt's runner (the dbt step), ~5 s
together on this machine, each time in the step that needs it, while the
run waits. Preloading them too would only move that wait before the first
step. Named in the preload list, this module has the forkserver import them
after it has forked a step, while that step works on the other core, so
that the steps forked later have them imported.

Steps are forked one at a time (definitions.EXECUTOR), so the forkserver's
Nth fork is the Nth step of the run; the schedule is the daily job's. An
import delays the next fork until it is done, so each goes after a step that
lasts longer than it even on a small day: Great Expectations (~2 s) after
the dbt step rather than after ingest, where on a 10k-row day it held up the
two short steps between them by ~2 s; the model code (~2 s) after the
expectations, which the scores follow. In any other job, or a subset of this
one, a step that finds its module not yet imported imports it itself, as
it would without this module. After the model code, the server
deserializes the day's champion and challenger (MODELS_LOADED_AFTER_FORK),
which the scores step and the review queue would each load again.

The import runs in the forkserver's only thread, between two forks, so no
child is forked while another thread holds an import lock. A module that
fails to import is left to the step that needs it, to fail there with its
own error, as the forkserver's preload does.

Before each fork the server freezes its objects (gc.freeze): a child's
garbage collections then skip the hundreds of thousands of objects it
inherited. Without it, the objects imported between forks made a child's
first full collection walk the whole inherited heap, writing to every page
of it (copy-on-write): monitoring a 1M-row day took ~1 s longer.
"""

from __future__ import annotations

import gc
import importlib
import os

# (fork, the daily job's step forked then, what to import while it runs)
IMPORTS_AFTER_FORK = (
    (
        1,
        "raw_applications",
        (
            "matplotlib.figure",
            "matplotlib.backends.backend_svg",
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
        ),
    ),
    (
        3,
        "dbt_transform",
        (
            "great_expectations",
            "great_expectations.core.expectation_suite",
            "great_expectations.execution_engine.pandas_execution_engine",
        ),
    ),
    (
        4,
        "application_features_feature_expectations",
        (
            "keel.models.artifacts",
            "keel.models.training",
        ),
    ),
)

# After the model code's import: the day's champion (and challenger) deserialized
# into keel.models.artifacts' cache of loaded models, so that the scores step and
# the review queue's explanations (forks 5 and 8) find them deserialized: on a
# 10k-row day the scores step 1.49, 1.72 s -> 0.70, 0.64 s and the review queue
# 1.23, 1.34 s -> 0.43, 0.47 s (timelines of two runs each, alternating). The
# cache is keyed by the sha256 of the artifact's bytes, which each step still
# reads and verifies against the registry: a model promoted since is loaded by
# the step as it would be without this.
MODELS_LOADED_AFTER_FORK = 4

_IMPORTING_PROCESS = os.getpid()
_forks = 0


def imported_after_fork(fork: int) -> tuple[str, ...]:
    """The modules the forkserver imports right after its `fork`-th fork (counting from 1)."""
    return next((names for number, _step, names in IMPORTS_AFTER_FORK if number == fork), ())


def import_after_fork() -> None:
    """In the process that imported this module, after each of its forks: that fork's imports."""
    global _forks
    if os.getpid() != _IMPORTING_PROCESS:
        return  # a child: children fork too (the dbt step) and must not import here
    _forks += 1
    names = imported_after_fork(_forks)
    if names:
        # As keel.quality.expectations sets before its import: no usage reports from a pipeline.
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the step that needs it reports the error
            continue
    if _forks == MODELS_LOADED_AFTER_FORK:
        load_day_models()


def load_day_models() -> None:
    """The champion and challenger of KEEL_HOME deserialized into this process's cache; any failure is left to the steps that load them."""
    try:
        from keel.decisioning import preload_day_models
        from keel.home import KeelHome

        preload_day_models(KeelHome.from_env())
    except Exception:  # noqa: BLE001 - the scores step loads the model itself and reports what is wrong
        return


def freeze_before_fork() -> None:
    """In the process that imported this module, before each of its forks: what it holds now is never collected again."""
    if os.getpid() == _IMPORTING_PROCESS:
        gc.freeze()


os.register_at_fork(before=freeze_before_fork, after_in_parent=import_after_fork)
