"""dbt run in a child forked from the step, instead of a fresh `dbt` interpreter.

dagster-dbt starts `dbt <command>` as a subprocess, and that interpreter
spends seconds importing dbt before it reads the project (docs/BENCHMARKS.md,
"Profiling": 7.5 of 17 profiled seconds in a 10k day): on every daily run,
at every size of day. The step that starts it has imported dbt already
(dagster-dbt builds a dbt adapter in it to read column metadata), so a child
forked from the step runs the same command through dbt's programmatic entry
point (`dbtRunner`) at once. The child writes dbt's JSON log lines to a pipe,
exactly as the subprocess wrote them to its stdout, and exits with the codes
the `dbt` executable uses (0 success, 1 a node failed, 2 dbt itself failed),
so dagster-dbt streams, judges and reports it as before.

The child ends with the step: forked from the step's main thread, it asks
the kernel to kill it when the step ends (keel.parent_exit). Before, a child
whose step was killed went on until it next wrote a log line to the closed
pipe (3.5 and 4.5 s after a step killed as dbt started), free meanwhile to
write to the warehouse with no step left to wait for it.
"""

from __future__ import annotations

import io
import multiprocessing.util
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from keel.parent_exit import signal_when_parent_ends
from resources.dbt_behavior_flags import behavior_flag_sources_from_frames
from resources.dbt_schemas import json_schemas_kept_in

EXIT_SUCCESS = 0
EXIT_NODE_FAILED = 1
EXIT_DBT_FAILED = 2


class ForkedCall:
    """`call()` run in a child forked from this process, with the part of `subprocess.Popen` dagster-dbt uses.

    The child's stdout and stderr go to one pipe (`stdout` here, read as
    bytes lines); `call()` returns the exit code; an exception in it prints
    its traceback to that pipe and exits 2. POSIX only (os.fork).

    Forked from the main thread, the child is killed when this process
    ends. The kernel's parent-death signal follows the thread that forked,
    so a child forked from another thread is not asked: it would be killed
    when that thread ended, in the middle of a healthy call.
    """

    def __init__(self, args: Sequence[str], call: Callable[[], int]):
        self.args = list(args)
        self.returncode: int | None = None
        read_end, write_end = os.pipe()
        _widen_pipe(write_end)
        parent = os.getpid()
        end_with_parent = threading.current_thread() is threading.main_thread()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            if end_with_parent:
                _end_with(parent)
            _run_in_child(call, write_end)  # never returns
        os.close(write_end)
        self.pid = pid
        self.stdout = os.fdopen(read_end, "rb")

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is not None:
            return self.returncode
        if timeout is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(0.05)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


# Linux's largest pipe buffer an unprivileged process may ask for by default (/proc/sys/fs/pipe-max-size).
CHILD_OUTPUT_PIPE_BYTES = 1024 * 1024


def _widen_pipe(fd: int) -> None:
    """Give the child's output pipe room for a megabyte of dbt's log lines (the default is 64 KB).

    The step builds dagster-dbt's dbt adapter (~1.4 s) after dbt starts and
    before it reads dbt's output; with the default buffer dbt would stop at
    its first 64 KB of JSON lines and wait. Where the size cannot be set
    (not Linux, or a lower limit) the pipe keeps its default.
    """
    import fcntl

    set_pipe_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if set_pipe_size is None:
        return
    try:
        fcntl.fcntl(fd, set_pipe_size, CHILD_OUTPUT_PIPE_BYTES)
    except OSError:
        pass


def _end_with(parent: int) -> None:
    """In the child: be killed when `parent` ends, and end now if it already has (it could between fork and asking)."""
    if signal_when_parent_ends(signal.SIGKILL) and os.getppid() != parent:
        os._exit(EXIT_DBT_FAILED)


def _run_in_child(call: Callable[[], int], write_end: int) -> None:
    code = EXIT_DBT_FAILED
    try:
        # What multiprocessing does in a child it forks: the parent's finalizers are the parent's;
        # the child's own (dbt's semaphores) run before it exits, so none is reported leaked.
        multiprocessing.util._finalizer_registry.clear()
        multiprocessing.util._run_after_forkers()
        # The step's handlers turn signals into Dagster interruptions; dbt expects Python's defaults.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", line_buffering=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", line_buffering=True)
        code = call()
    except BaseException:
        traceback.print_exc()
        code = EXIT_DBT_FAILED
    finally:
        try:
            multiprocessing.util._exit_function()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            # Not sys.exit: the parent's atexit handlers and buffers are the parent's.
            os._exit(code)


def run_dbt(dbt_args: Sequence[str], env: Mapping[str, str], cwd: str | Path, json_schemas: Path | None = None) -> int:
    """`dbt <dbt_args>` in this process, in `cwd` with exactly `env`; the `dbt` executable's exit code.

    dbt's config schemas are read from and saved to `json_schemas` (resources/dbt_schemas.py) when given.
    """
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    # dbt-duckdb keeps its DuckDB instance at class level; one inherited from the parent is the parent's.
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.cli.main import dbtRunner

    DuckDBConnectionManager._ENV = None
    with json_schemas_kept_in(json_schemas), behavior_flag_sources_from_frames():
        result = dbtRunner().invoke(list(dbt_args))
    if result.success:
        return EXIT_SUCCESS
    return EXIT_DBT_FAILED if result.exception is not None else EXIT_NODE_FAILED


def forked_dbt(args: Sequence[str], env: Mapping[str, str], cwd: str | Path, json_schemas: Path | None = None) -> ForkedCall:
    """`args` as dagster-dbt builds them ([dbt executable, *dbt args]), run by a forked child."""
    dbt_args, environment = list(args[1:]), dict(env)
    return ForkedCall(args, lambda: run_dbt(dbt_args, environment, cwd, json_schemas))


@contextmanager
def dbt_forked_from_this_process(json_schemas: Path | None = None):
    """While open, dagster-dbt's dbt invocations fork from this process instead of starting `dbt`.

    dagster-dbt offers no hook for how the dbt process starts, so its module's
    `subprocess` is swapped for one whose Popen forks; steps run one at a time
    in a process, and the original is restored on exit.
    """
    from dagster_dbt.core import dbt_cli_invocation

    original = dbt_cli_invocation.subprocess
    dbt_cli_invocation.subprocess = _ForkingSubprocess(json_schemas)
    try:
        yield
    finally:
        dbt_cli_invocation.subprocess = original


class _ForkingSubprocess:
    """subprocess as dagster-dbt's invocation module sees it, but Popen forks."""

    def __init__(self, json_schemas: Path | None = None):
        self.json_schemas = json_schemas

    def Popen(self, args: Sequence[str], *, env: Mapping[str, str], cwd: str | Path, **_: Any) -> ForkedCall:  # noqa: N802 - subprocess's name
        # dagster-dbt asks for stdout=PIPE, stderr=STDOUT: what ForkedCall always does.
        return forked_dbt(args, env, cwd, self.json_schemas)

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)
