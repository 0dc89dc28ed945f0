"""The code location loads and carries the whole decision process, described for people."""

import ast
import os
import subprocess
import sys

import dagster as dg
import pytest

from keel.home import REPO_ROOT

EXPECTED_ASSETS = {
    "raw_applications",
    "raw_outcomes",
    "stg_applications",
    "stg_outcomes",
    "application_features",
    "training_set",
    "candidate_model",
    "scores",
    "decisions",
    "review_queue",
    "decision_ledger",
    "feature_drift",
    "score_drift",
    "model_performance",
    "segment_outcomes",
    "review_outcomes",
    "final_decisions",
    "model_registry",
    "model_evaluation",
}


@pytest.fixture(scope="module")
def defs():
    import definitions

    return definitions.defs


def test_definitions_load_with_every_asset(defs):
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    missing = EXPECTED_ASSETS - keys
    assert not missing, f"assets missing from the definitions: {sorted(missing)}"


def test_every_asset_is_described_owned_grouped_kinded_and_versioned(defs):
    graph = defs.resolve_asset_graph()
    problems = []
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_external:
            continue
        spec_problems = [
            label
            for label, ok in (
                ("description", bool(node.description and len(node.description) > 20)),
                ("owners", bool(node.owners)),
                ("group", bool(node.group_name) and node.group_name != "default"),
                ("kinds", bool(node.kinds)),
                ("code_version", bool(node.code_version)),
            )
            if not ok
        ]
        if spec_problems:
            problems.append(f"{key.to_user_string()}: missing {', '.join(spec_problems)}")
    assert not problems, "\n".join(problems)


def test_warehouse_steps_share_one_pool(defs):
    graph = defs.resolve_asset_graph()
    for name in ("raw_applications", "application_features", "scores", "decisions", "review_queue", "training_set"):
        assets_def = graph.assets_def_for_key(dg.AssetKey(name))
        pools = {op.pool for op in assets_def.node_def.iterate_op_defs()} if hasattr(assets_def.node_def, "iterate_op_defs") else {assets_def.op.pool}
        assert pools == {"warehouse"}, f"{name} is not in the warehouse pool: {pools}"


def test_schedule_and_landing_sensor_are_on_by_default(defs):
    assert defs.resolve_sensor_def("landing_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_schedule_def("daily_scoring").default_status == dg.DefaultScheduleStatus.RUNNING


def test_every_check_says_in_words_what_it_guarantees(defs):
    graph = defs.resolve_asset_graph()
    undescribed = sorted(
        f"{key.asset_key.to_user_string()}:{key.name}"
        for key in graph.asset_check_keys
        if len((graph.get_check_spec(key).description or "").strip()) < 20
    )
    assert not undescribed, f"checks without a description a person can read: {undescribed}"


def test_the_delivery_check_runs_on_its_hourly_schedule_not_in_each_days_run(defs):
    """In a day's run the check could only pass (the run starts from the landed file); it would cost a step."""
    daily = defs.resolve_job_def("daily_decisioning").graph.node_names()
    freshness = defs.resolve_job_def("check_source_freshness").graph.node_names()
    assert "raw_applications_source_delivered_on_time" not in daily
    assert {"raw_applications", "raw_outcomes", "dbt_transform", "scores", "decision_ledger"} <= set(daily)
    assert freshness == ["raw_applications_source_delivered_on_time"]


def test_dbts_tests_of_the_raw_sources_are_checks_of_the_ingestion_assets(defs):
    """dbt runs them in every day's build; as checks they show beside the contract's, not as bare observations."""
    checks = {(key.asset_key.to_user_string(), key.name) for key in defs.resolve_asset_graph().asset_check_keys}
    assert ("raw_applications", "source_not_null_raw_applications_application_id") in checks
    assert ("raw_applications", "source_not_null_raw_applications_application_date") in checks
    assert ("raw_outcomes", "source_not_null_raw_outcomes_application_id") in checks
    daily = {key.name for key in defs.resolve_job_def("daily_decisioning").asset_layer.asset_graph.asset_check_keys}
    assert "source_not_null_raw_applications_application_id" in daily


def test_drift_sensor_and_freshness_schedule_are_on_by_default(defs):
    assert defs.resolve_sensor_def("drift_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_sensor_def("review_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_sensor_def("run_failure_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_sensor_def("source_outage_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_sensor_def("review_sla_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_sensor_def("abandoned_run_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_sensor_def("model_registry_sensor").default_status == dg.DefaultSensorStatus.RUNNING
    assert defs.resolve_schedule_def("source_freshness").default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_daily_jobs_backfill_one_run_per_day_and_load_without_warnings():
    """A backfill of the daily jobs runs each day on its own; loading them says nothing a person must act on.

    dbt_transform alone declares a single-run backfill policy (a range in one
    dbt invocation); Dagster resolves the jobs holding it and assets without
    one to one run per day, and its warning saying so is filtered
    (sensors/jobs.py). In a fresh interpreter with warnings as errors, so
    that a new warning fails here.
    """
    probe = (
        "import definitions\n"
        "for job in definitions.defs.resolve_all_job_defs():\n"
        "    print(job.name, job.backfill_policy.max_partitions_per_run if job.backfill_policy else None)\n"
    )
    loaded = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", probe], capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, f"loading the jobs warned or failed:\n{loaded.stderr[-3000:]}"
    policies = dict(line.rsplit(" ", 1) for line in loaded.stdout.splitlines())
    assert policies["daily_decisioning"] == "1"
    assert policies["ingest_outcomes"] == "1"


HEAVY_LIBRARIES = ("sklearn", "skops", "great_expectations", "matplotlib", "pandas", "numpy", "pyarrow", "duckdb", "pandera")


def test_loading_the_definitions_does_not_import_the_heavy_libraries():
    """The model code, Great Expectations, matplotlib and keel's data code (pandas, pyarrow, DuckDB, pandera)
    load with the steps that use them, not with every definitions load (a code server, each run worker)."""
    probe = f"import sys, definitions; definitions.defs.get_repository_def(); print(sorted(m for m in {HEAVY_LIBRARIES!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True).stdout.strip()
    assert loaded == "[]", f"imported at definitions load: {loaded}"


def _modules_imported_in_function_bodies(path) -> set[str]:
    imported = set()
    for function in ast.walk(ast.parse(path.read_text())):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("keel"):
                    imported |= {f"keel.{alias.name}" for alias in node.names} if node.module == "keel" else {node.module}
    return imported


def test_the_forkserver_preloads_the_keel_modules_the_assets_import_in_their_bodies():
    """A module an asset imports in its body that nobody preloads is imported by each step that needs it, while the run waits."""
    from keel.forkserver import STEP_MODULES
    from keel.forkserver_warmup import IMPORTS_AFTER_FORK

    in_bodies = set().union(*(_modules_imported_in_function_bodies(path) for path in (REPO_ROOT / "assets").glob("*.py")))
    in_bodies |= _modules_imported_in_function_bodies(REPO_ROOT / "resources" / "warehouse.py")
    after_forks = {name for _fork, _step, names in IMPORTS_AFTER_FORK for name in names}
    # The model's evaluation report (scikit-learn) is the training job's, whose runs are few.
    training_only = {"keel.models.evaluation_report"}
    assert "keel.decisioning" in in_bodies and "keel.warehouse" in in_bodies
    assert in_bodies - set(STEP_MODULES) - after_forks - training_only == set()


def _without_pythonpath() -> dict:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _run_probe(tmp_path, probe: str, env: dict | None = None) -> list[str]:
    """The lines `probe`, a script using a forkserver, printed, run from `tmp_path` (a fresh interpreter: its own server)."""
    script = tmp_path / "probe.py"
    script.write_text(probe)
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()


def test_steps_fork_from_a_server_that_preloaded_keel_whatever_the_working_directory(tmp_path):
    """The multiprocess executor's forkserver imports keel once; each step then starts in a fraction of a second.

    dbt changes the working directory of the process that runs it, and the
    forkserver imports its preload list with only that directory on sys.path:
    without the repository on PYTHONPATH it silently preloaded nothing and
    every step imported the definitions again (~2 s per step).
    """
    probe = f"""
import multiprocessing, os, sys, time
sys.path.insert(0, {str(REPO_ROOT)!r})
import definitions
os.chdir({str(tmp_path)!r})

def modules_in_step(queue):
    import gc
    imported = list(sys.modules)
    preloaded = sorted(m for m in ("definitions", "dagster._core.storage.sqlite_storage", "sklearn", "skops.io") if m in sys.modules)
    # scipy before Dagster and dbt: skops, imported later, searches every module already imported for scipy's ufuncs (definitions.py).
    scipy_first = "scipy.special" in imported and imported.index("scipy.special") < imported.index("dagster")
    from keel.forkserver import STEP_MODULES
    step_code = all(m in sys.modules for m in STEP_MODULES + ("pandas", "duckdb"))
    queue.put(str(preloaded) + (" scipy first" if scipy_first else "") + (" step code" if step_code else "") + f" frozen {{gc.get_freeze_count()}}")

if __name__ == "__main__":
    context = multiprocessing.get_context("forkserver")
    # What Dagster's multiprocess executor does with the list: its own module first, unless the list names it.
    preload = list(definitions.PRELOADED)
    if "dagster._core.executor.multiprocess" not in preload:
        preload = ["dagster._core.executor.multiprocess", *preload]
    context.set_forkserver_preload(preload)
    queue = context.Queue()
    step = context.Process(target=modules_in_step, args=(queue,))
    step.start()
    print(queue.get(timeout=120))
    step.join()
"""
    preloaded, frozen = _run_probe(tmp_path, probe, env=_without_pythonpath())[-1].split(" frozen ")
    assert preloaded == "['dagster._core.storage.sqlite_storage', 'definitions'] scipy first step code", "the model code is imported after a later fork"
    # The server froze what it holds before forking: the step's collections skip it (keel.forkserver_warmup).
    assert int(frozen) > 100_000


def test_a_multiprocess_run_starts_the_forkserver_before_it_loads_the_job(tmp_path):
    """The forkserver's preload (~5 s) runs while the process running the executor loads the job and creates the run.

    Started by Dagster, it began only when the first step was launched. A
    job that does not exist fails to load: the server is already up, with
    keel preloaded, and the failure is still the run's.
    """
    probe = f"""
import multiprocessing, sys
from pathlib import Path
sys.path.insert(0, {str(REPO_ROOT)!r})
from keel.home import KeelHome
from keel.orchestrate import execute

def modules_in_step(queue):
    queue.put("definitions" in sys.modules)

if __name__ == "__main__":
    try:
        execute("no_such_job", KeelHome(Path({str(tmp_path / "home")!r})), executor="multiprocess")
    except Exception as error:
        print("failed:", type(error).__name__, str(error).splitlines()[0][:200])
    print("server running:", multiprocessing.forkserver._forkserver._forkserver_pid is not None)
    context = multiprocessing.get_context("forkserver")
    queue = context.Queue()
    step = context.Process(target=modules_in_step, args=(queue,))
    step.start()
    print("preloaded:", queue.get(timeout=120))
    step.join()
"""
    failed, running, preloaded = _run_probe(tmp_path, probe)[-3:]
    assert failed.startswith("failed: ") and "no_such_job" in failed, failed
    assert running == "server running: True", "the forkserver waits for the first step"
    assert preloaded == "preloaded: True"


def test_the_forkserver_preloads_the_code_that_started_it_not_its_working_directorys(tmp_path):
    """The server is `python -c`, whose working directory comes first on sys.path.

    `keel replay` of a day decided under a policy in another checkout (the
    code on PYTHONPATH, keel started from this repository) preloaded this
    repository's definitions and policy: the challenger's share was decided
    by the champion. A decoy `definitions.py` in the working directory stands
    for the other checkout.
    """
    (tmp_path / "definitions.py").write_text("DECOY = True\n")
    probe = f"""
import multiprocessing, sys
sys.path.insert(0, {str(REPO_ROOT)!r})
from keel.forkserver import start_forkserver

def definitions_in_step(queue):
    import definitions
    queue.put(definitions.__file__)

if __name__ == "__main__":
    start_forkserver()
    context = multiprocessing.get_context("forkserver")
    queue = context.Queue()
    step = context.Process(target=definitions_in_step, args=(queue,))
    step.start()
    print(queue.get(timeout=120))
    step.join()
"""
    assert _run_probe(tmp_path, probe, env=_without_pythonpath())[-1] == str(REPO_ROOT / "definitions.py")


def test_putting_the_repository_on_pythonpath_adds_it_once(monkeypatch):
    from keel.forkserver import put_repository_on_pythonpath

    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    put_repository_on_pythonpath()
    put_repository_on_pythonpath()
    assert os.environ["PYTHONPATH"].split(os.pathsep) == [str(REPO_ROOT), "/elsewhere"]


def _what_forked_steps_see(tmp_path, forks: int, seen: str, env: dict | None = None) -> tuple[list[str], str]:
    """`seen` (an expression over sys.modules) in each of `forks` processes forked in turn from a forkserver preloading keel's list, and then in the parent."""
    probe = f"""
import multiprocessing, sys
sys.path.insert(0, {str(REPO_ROOT)!r})
import definitions

def report(queue):
    queue.put({seen})

if __name__ == "__main__":
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["dagster._core.executor.multiprocess", *definitions.PRELOADED])
    queue = context.Queue()
    for _ in range({forks}):
        step = context.Process(target=report, args=(queue,))
        step.start()
        print(queue.get(timeout=120))
        step.join()
    print({seen})
"""
    *steps, parent = _run_probe(tmp_path, probe, env=env)[-(forks + 1):]
    return steps, parent


def test_the_forkserver_imports_what_only_some_steps_need_while_earlier_steps_run(tmp_path):
    """The model code, Great Expectations, matplotlib and dbt's runner: imported by the forkserver after the forks its schedule names, so later steps have them."""
    from keel.forkserver_warmup import IMPORTS_AFTER_FORK, imported_after_fork

    scheduled = sorted(name for _fork, _step, names in IMPORTS_AFTER_FORK for name in names)
    forks = max(fork for fork, _step, _names in IMPORTS_AFTER_FORK) + 1
    steps, run_worker = _what_forked_steps_see(tmp_path, forks, f"sorted(m for m in {scheduled!r} if m in sys.modules)")
    expected, imported = [], set()
    for fork in range(1, forks + 1):
        expected.append(str(sorted(imported)))  # what the forks before this one had the server import
        imported |= set(imported_after_fork(fork))
    assert steps == expected
    assert steps[0] == "[]", "forked before the forkserver imported anything more"
    assert steps[-1] == str(scheduled), "the last step forked has every scheduled module"
    assert steps[1] != steps[-1], "Great Expectations waits for the dbt step, not for the first"
    assert run_worker == "[]", "the process that runs the executor imports nothing more"


def test_the_forkserver_deserializes_the_days_models_after_the_model_code(demo_copy, tmp_path):
    """The champion is in the model cache of the steps forked after the fourth (the scores step and the review queue on), not before."""
    from keel.control_store import ControlStore
    from keel.forkserver_warmup import MODELS_LOADED_AFTER_FORK
    from keel.home import KeelHome

    home, _ = demo_copy
    store = ControlStore(KeelHome(home).control_store)
    champion_sha = store.get_model_version(store.current_alias("champion"))["artifact_sha256"]
    cached = 'sorted(sys.modules["keel.models.artifacts"]._LOADED) if "keel.models.artifacts" in sys.modules else []'
    steps, run_worker = _what_forked_steps_see(tmp_path, MODELS_LOADED_AFTER_FORK + 2, cached, env={**os.environ, "KEEL_HOME": str(home)})
    assert steps[:MODELS_LOADED_AFTER_FORK] == ["[]"] * MODELS_LOADED_AFTER_FORK
    assert steps[MODELS_LOADED_AFTER_FORK:] == [str([champion_sha])] * 2
    assert run_worker == "[]", "the process that runs the executor loads no model"


def test_preloading_the_days_models_of_a_home_without_a_control_store_touches_nothing(tmp_path):
    from keel.decisioning import preload_day_models
    from keel.home import KeelHome

    assert preload_day_models(KeelHome(tmp_path / "home")) is None
    assert not (tmp_path / "home").exists()


def test_steps_of_a_run_start_one_at_a_time_without_waiting_on_their_pool(tmp_path):
    """keel's executor runs a run's steps one after another (its steps share the one-writer warehouse pool).

    With two at once, the executor started the second step, found the pool
    taken and retried after a growing back-off (1 s, 1.1 s, ...): the step
    started up to seconds after the pool was free.
    """
    from tests.integration import pool_probe_job

    instance = dg.DagsterInstance.local_temp(str(tmp_path), overrides={"concurrency": {"pools": {"default_limit": 1, "granularity": "op"}}})
    with dg.execute_job(dg.reconstructable(pool_probe_job.two_steps_in_one_pool), instance=instance) as result:
        assert result.success
        events = instance.all_logs(result.run_id)
    blocked = [e.user_message for e in events if "blocked by limit for pool" in (e.user_message or "")]
    assert blocked == [], blocked
    windows = {}
    for event in events:
        if event.dagster_event and event.dagster_event.event_type_value in ("STEP_START", "STEP_SUCCESS"):
            windows.setdefault(event.step_key, []).append(event.timestamp)
    assert set(windows) == {"first_in_pool", "second_in_pool"}
    (first_start, first_end), (second_start, second_end) = sorted(windows.values())
    assert first_end <= second_start, "the two steps overlapped"
