"""The multiprocess executor's forkserver: what it preloads, and starting it before a run needs it.

Each step of a run executes in its own process, forked from a server that
has imported keel once: starting a step then costs a fork, not a fresh
interpreter importing Dagster, dbt and keel (~3 s per step). The server's
preload (~5 s on this machine) is most of the wait before a run's first
step. Dagster starts the server when it launches that step, after the
process running the executor has loaded the job and created the run; started
first, the server imports on the other core while that work goes on.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.forkserver
import os

from keel.home import REPO_ROOT

# keel's data code (pandas, pyarrow, DuckDB, pandera), which the assets
# import in their bodies so that the definitions load without it
# (assets/__init__.py): every step of the daily job needs some of it.
STEP_MODULES = (
    "keel.warehouse",
    "keel.ingest",
    "keel.freshness",
    "keel.outcome_links",
    "keel.decisioning",
    "keel.quality",
    "keel.quality.expectations",
    "keel.review.measures",
    "keel.review.explanations",
    "keel.review.ingest",
    "keel.ledger_events",
    "keel.ledger_store",
    "keel.monitoring",
    "keel.monitoring.daily",
    "keel.monitoring.drift",
    "keel.monitoring.severity",
    "keel.models.training_set",
)

# The instance's SQLite storage (SQLAlchemy, alembic) is preloaded too: every
# step opens the instance, and importing it cost each step ~0.7 s.
# What only some steps import (the model code, Great Expectations,
# matplotlib, dbt's runner) the forkserver imports after forking an earlier
# step, while that step works (keel.forkserver_warmup): the first step starts
# ~2 s sooner than with the model code preloaded. keel.forkserver_steps ends
# the server and its steps with the process that started the server.
# scipy.special comes first: skops, imported with the model code, looks up
# each of scipy's ufuncs in every module already imported, in import order;
# with scipy's modules ahead of Dagster's and dbt's, its import after them
# takes ~1.9 s instead of ~3.8 s. Dagster puts its executor module ahead of a
# preload list that does not name it, so the list names it, after scipy.
PRELOADED = [
    "scipy.special",
    "dagster._core.executor.multiprocess",
    "definitions",
    *STEP_MODULES,
    "dagster._core.storage.sqlite_storage",
    "keel.forkserver_steps",
    "keel.forkserver_warmup",
]


def put_repository_on_pythonpath() -> None:
    """Put the repository on PYTHONPATH, for the forkserver (and any process started after) to import keel from.

    The forkserver imports PRELOADED by name with only its working directory
    on sys.path, and silently skips what it cannot import. dbt changes the
    working directory of the process that runs it, so a later forkserver
    preloaded nothing and every step re-imported the definitions (~2 s each).
    """
    repository = str(REPO_ROOT)
    if repository not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [repository, os.environ.get("PYTHONPATH")]))


def start_forkserver() -> None:
    """Start this process's forkserver with keel's preload list, unless it is running.

    Dagster's executor sets the same list and finds the server running. The
    server inherits this process's environment and standard streams as they
    are now: call this where the run's would be set up. It runs, and forks
    the steps, in the repository of the code that starts it, as the code
    server's runs do (workspace.yaml's working directory).
    """
    put_repository_on_pythonpath()
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(PRELOADED))
    # The server is `python -c`, which puts its working directory ahead of PYTHONPATH on sys.path:
    # started from another checkout of keel, it preloaded that checkout's code and policies.
    with contextlib.chdir(REPO_ROOT):
        multiprocessing.forkserver.ensure_running()


def stop_forkserver() -> None:
    """Stop this process's forkserver, if one is running (a later run starts a new one).

    The server outlives the run whose steps it forked, holding keel, the
    models and its preload (~0.5 GB). `keel bench` stops it before the bare
    script runs, so that the script's memory is the script's alone.
    multiprocessing has no public call for this; `_stop` is what CPython's
    own tests use: it closes the pipe whose end tells the server to exit.
    multiprocessing's resource tracker is left running: it is ~8 MB, and
    stopped early it warns of the run's semaphores as leaked.
    """
    multiprocessing.forkserver._forkserver._stop()
