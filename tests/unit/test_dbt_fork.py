"""dbt forked from the step: the same output, exit codes and signals as the `dbt` executable it replaces."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from keel.executables import venv_tool
from keel.home import REPO_ROOT
from resources.dbt import DBT_PROJECT_DIR, fork_dbt
from resources.dbt_fork import EXIT_DBT_FAILED, EXIT_NODE_FAILED, EXIT_SUCCESS, ForkedCall, dbt_forked_from_this_process, forked_dbt
from tests.process_state import running

# A step that forks dbt (from its main thread, or from a thread that then ends) and says
# the child's pid; the child builds a model for minutes without logging a line.
STEP_PROCESS = f"""
import sys, threading, time
sys.path.insert(0, {str(REPO_ROOT)!r})
from resources.dbt_fork import ForkedCall

def quiet_model():
    time.sleep(300)
    return 0

calls = []
if sys.argv[1] == "main":
    calls.append(ForkedCall(["dbt", "build"], quiet_model))
else:
    forker = threading.Thread(target=lambda: calls.append(ForkedCall(["dbt", "build"], quiet_model)))
    forker.start()
    forker.join()
print(calls[0].pid, flush=True)
time.sleep(300)
"""


def _lines(call: ForkedCall) -> list[str]:
    with call.stdout:
        return [line.decode("utf-8").rstrip("\n") for line in call.stdout]


def _dbt_env(tmp_path) -> dict[str, str]:
    return {
        **os.environ,
        "KEEL_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "DBT_LOG_FORMAT": "json",
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "target"),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def test_a_forked_call_streams_its_output_and_returns_its_exit_code():
    def talk() -> int:
        print("first")
        print("second", file=sys.stderr)
        return 3

    call = ForkedCall(["talk"], talk)
    assert _lines(call) == ["first", "second"]
    assert call.wait() == 3
    assert call.poll() == 3


def test_an_exception_in_the_child_prints_its_traceback_and_exits_2():
    def fail() -> int:
        raise ValueError("the project is broken")

    call = ForkedCall(["fail"], fail)
    output = "\n".join(_lines(call))
    assert call.wait() == EXIT_DBT_FAILED
    assert "ValueError: the project is broken" in output


def test_the_child_stops_on_sigint_as_dbt_does_and_wait_times_out_while_it_runs():
    def sleep() -> int:
        print("ready", flush=True)
        time.sleep(60)
        return 0

    call = ForkedCall(["sleep"], sleep)
    assert call.stdout.readline() == b"ready\n"
    with pytest.raises(subprocess.TimeoutExpired):
        call.wait(timeout=0.2)
    call.send_signal(signal.SIGINT)
    assert call.wait(timeout=30) == EXIT_DBT_FAILED  # KeyboardInterrupt, as an interrupted dbt
    assert "KeyboardInterrupt" in "\n".join(_lines(call))


def test_a_killed_child_reports_the_signal_as_popen_does():
    call = ForkedCall(["sleep"], lambda: time.sleep(60) or 0)
    call.kill()
    assert call.wait(timeout=30) == -signal.SIGKILL
    call.kill()  # already gone: nothing to signal, no error


def _step_forking_dbt(tmp_path, thread: str) -> tuple[subprocess.Popen, int]:
    script = tmp_path / "step.py"
    script.write_text(STEP_PROCESS)
    step = subprocess.Popen([sys.executable, str(script), thread], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    line = step.stdout.readline()
    assert line, f"the step exited {step.wait()} before forking"
    return step, int(line)


def _wait_until_ended(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not running(pid)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal is Linux's")
def test_dbt_forked_from_the_step_s_main_thread_ends_when_the_step_is_killed(tmp_path):
    """Before, it built on until it next logged, free to write to the warehouse with no step left to wait for it."""
    step, dbt = _step_forking_dbt(tmp_path, "main")
    try:
        assert running(dbt)
        step.kill()
        step.wait()
        assert _wait_until_ended(dbt, seconds=10)
    finally:
        step.kill()
        with contextlib.suppress(ProcessLookupError):
            os.kill(dbt, signal.SIGKILL)


def test_dbt_forked_from_a_thread_that_ended_goes_on_while_the_step_lives(tmp_path):
    """The kernel's signal follows the thread that forked: asked there, dbt would die with that thread, mid-run."""
    step, dbt = _step_forking_dbt(tmp_path, "thread")
    try:
        assert not _wait_until_ended(dbt, seconds=1)
    finally:
        step.kill()
        with contextlib.suppress(ProcessLookupError):
            os.kill(dbt, signal.SIGKILL)


def test_forked_dbt_parses_the_project_and_logs_the_executables_json_lines(tmp_path):
    forked = forked_dbt(["dbt", "parse"], _dbt_env(tmp_path / "forked"), DBT_PROJECT_DIR)
    forked_lines = _lines(forked)
    assert forked.wait() == EXIT_SUCCESS
    executable = subprocess.run([venv_tool("dbt"), "parse"], env=_dbt_env(tmp_path / "executable"), cwd=DBT_PROJECT_DIR, capture_output=True, text=True, check=True)
    # Every line is a JSON event (no stray warnings), the same events in the same order.
    assert [json.loads(line)["info"]["code"] for line in forked_lines] == [json.loads(line)["info"]["code"] for line in executable.stdout.splitlines()]
    assert (tmp_path / "forked" / "target" / "manifest.json").is_file()


def test_forked_dbt_keeps_its_config_schemas_and_logs_the_same_events_with_them(tmp_path):
    schemas = tmp_path / "schemas" / "dbt_json_schemas.json"
    runs = []
    for name in ("without", "deriving", "reading"):
        call = forked_dbt(["dbt", "parse"], _dbt_env(tmp_path / name), DBT_PROJECT_DIR, None if name == "without" else schemas)
        runs.append([json.loads(line)["info"]["code"] for line in _lines(call)])
        assert call.wait() == EXIT_SUCCESS
        if name == "deriving":
            saved = json.loads(schemas.read_text())
            written = schemas.stat().st_mtime_ns
    assert runs[0] == runs[1] == runs[2]
    # The project, the profile's credentials and the nodes' configs, derived once and read after.
    assert {"dbt.contracts.project.Project", "dbt.adapters.duckdb.credentials.DuckDBCredentials", "dbt.contracts.graph.nodes.ModelNode"} <= set(saved)
    assert schemas.stat().st_mtime_ns == written


@pytest.mark.parametrize(
    "dbt_args",
    [["run-operation", "no_such_macro"], ["build", "--no-such-flag"]],
    ids=["a failing operation", "a command dbt refuses"],
)
def test_forked_dbt_fails_with_the_executables_exit_code(tmp_path, dbt_args):
    env = _dbt_env(tmp_path)
    forked = forked_dbt(["dbt", *dbt_args], env, DBT_PROJECT_DIR)
    _lines(forked)
    executable = subprocess.run([venv_tool("dbt"), *dbt_args], env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True)
    assert executable.returncode in (EXIT_NODE_FAILED, EXIT_DBT_FAILED)
    assert forked.wait() == executable.returncode


def test_the_parent_keeps_its_working_directory_and_environment(tmp_path):
    before_cwd, before_env = os.getcwd(), dict(os.environ)
    call = forked_dbt(["dbt", "parse"], {**_dbt_env(tmp_path), "ONLY_IN_THE_CHILD": "1"}, DBT_PROJECT_DIR)
    _lines(call)
    assert call.wait() == EXIT_SUCCESS
    assert os.getcwd() == before_cwd
    assert dict(os.environ) == before_env


def test_dagster_dbt_forks_only_inside_the_context_and_the_switch_turns_it_off(monkeypatch):
    from dagster_dbt.core import dbt_cli_invocation

    original = dbt_cli_invocation.subprocess
    with dbt_forked_from_this_process():
        assert dbt_cli_invocation.subprocess.Popen is not subprocess.Popen
        assert dbt_cli_invocation.subprocess.PIPE == subprocess.PIPE
    assert dbt_cli_invocation.subprocess is original
    assert fork_dbt()
    monkeypatch.setenv("KEEL_DBT_FORK", "0")
    assert not fork_dbt()


def test_dagster_dbts_invocation_runs_forked_and_reads_the_childs_events(tmp_path, monkeypatch):
    from resources.dbt import dbt_resource, release_duckdb_connection

    monkeypatch.setenv("KEEL_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    try:
        invocation = dbt_resource().cli(["parse"], target_path=tmp_path / "target")
        assert isinstance(invocation.process, ForkedCall)
        events = list(invocation.stream_raw_events())
        assert invocation.is_successful()
    finally:
        release_duckdb_connection()
    assert [event.raw_event["info"]["name"] for event in events][:2] == ["MainReportVersion", "AdapterRegistered"]
    monkeypatch.setenv("KEEL_DBT_FORK", "0")
    assert isinstance(dbt_resource().cli(["parse"], target_path=tmp_path / "again").wait().process, subprocess.Popen)


def test_a_failing_forked_dbt_raises_dagster_dbts_error_with_the_exit_code(tmp_path, monkeypatch):
    from dagster_dbt import DagsterDbtCliRuntimeError

    from resources.dbt import dbt_resource, release_duckdb_connection

    monkeypatch.setenv("KEEL_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    try:
        invocation = dbt_resource().cli(["run-operation", "no_such_macro"], target_path=tmp_path / "target")
        with pytest.raises(DagsterDbtCliRuntimeError, match="failed with exit code `[12]`"):
            invocation.wait()
    finally:
        release_duckdb_connection()
    assert isinstance(invocation.process, ForkedCall)


def _watching_resource(seen: list):
    """keel's dbt resource, noting the dbt process already started when the adapter starts to be built."""
    from resources.dbt import DBT_PROJECT_DIR, VenvDbtCliResource, dbt_project

    class Watching(VenvDbtCliResource):
        def _adapter_for(self, invocation, args):
            seen.append(invocation.process.pid)
            return super()._adapter_for(invocation, args)

    return Watching(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=venv_tool("dbt"))


@pytest.mark.parametrize("fork", ["1", "0"])
def test_dbt_starts_before_the_step_builds_dagster_dbts_adapter(tmp_path, monkeypatch, fork):
    from resources.dbt import release_duckdb_connection

    monkeypatch.setenv("KEEL_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("KEEL_DBT_FORK", fork)
    seen: list = []
    try:
        invocation = _watching_resource(seen).cli(["parse"], target_path=tmp_path / "target")
        events = list(invocation.stream_raw_events())
        assert invocation.is_successful()
    finally:
        release_duckdb_connection()
    # The adapter was built once, for the dbt process this invocation started, and it is the one dagster-dbt uses.
    assert seen == [invocation.process.pid]
    assert type(invocation.adapter).__name__ == "DuckDBAdapter"
    assert events[0].raw_event["info"]["name"] == "MainReportVersion"


def test_the_forked_childs_output_pipe_holds_a_megabyte():
    import fcntl

    from resources.dbt_fork import CHILD_OUTPUT_PIPE_BYTES

    call = ForkedCall(["true"], lambda: EXIT_SUCCESS)
    try:
        assert fcntl.fcntl(call.stdout.fileno(), fcntl.F_GETPIPE_SZ) == CHILD_OUTPUT_PIPE_BYTES
    finally:
        _lines(call)
        call.wait()
