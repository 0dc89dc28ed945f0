"""Running the `keel` CLI as a user does, in a subprocess against a given KEEL_HOME, and waiting for what it serves."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from keel.home import KeelHome
from tests.process_state import running

KEEL = str(Path(sys.executable).with_name("keel"))
REPO_ROOT = Path(__file__).resolve().parents[2]


def _keel_env(home: Path, env: dict | None = None) -> dict:
    env = {**os.environ, **(env or {}), "KEEL_HOME": str(home), "DAGSTER_HOME": str(Path(home) / "dagster")}
    env.pop("KEEL_WAREHOUSE", None)
    return env


def keel(home: Path, *args: str, check: bool = True, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `keel ARGS` against `home`; `env` adds variables (KEEL_ALERT_FILE, ...)."""
    result = subprocess.run([KEEL, *args], env=_keel_env(home, env), capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"keel {' '.join(args)} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def start_keel(home: Path, *args: str, **popen_options) -> subprocess.Popen:
    """Start `keel ARGS` against `home` without waiting for it (by default its output in `.stdout` and `.stderr`, as text)."""
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **popen_options}
    return subprocess.Popen([KEEL, *args], env=_keel_env(home), **options)


def keel_json(home: Path, *args: str, check: bool = True) -> dict:
    result = keel(home, *args, "--json", check=check)
    return json.loads(result.stdout)


def copy_home(source: Path, destination: Path) -> Path:
    """Copy a KEEL_HOME as a user would (back up, restore elsewhere), then let keel point its instance at the copy."""
    shutil.copytree(source, destination)
    KeelHome(destination).ensure()
    return destination


# What `keel` runs from: a copy of these is a commit of the code as keel would run it.
CODE = ("keel", "assets", "resources", "sensors", "policies", "dbt_project", "definitions.py", "workspace.yaml", "dagster.yaml")


def copy_code(target: Path) -> Path:
    """A copy of the code keel runs from (a commit of it, as a change would be made); PYTHONPATH=target runs it."""
    for name in CODE:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "logs"))
        else:
            shutil.copyfile(source, target / name)
    return target


def code_with_policy(target: Path, **changes) -> dict:
    """A copy of the code whose policy has `changes` (policies are versioned with the code); the env to run keel from it."""
    import yaml

    copy_code(target)
    policy_file = target / "policies" / "credit_policy.yaml"
    policy = yaml.safe_load(policy_file.read_text())
    policy.update(changes)
    policy_file.write_text(yaml.safe_dump(policy, sort_keys=False))
    return {"PYTHONPATH": str(target)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def start_keel_serve(home: Path, port: int, log, review_port: int | None = None, **popen_options) -> subprocess.Popen:
    """`keel serve` on 127.0.0.1:`port` against `home`, output to `log`, in a session of its own (its pid leads the process group).

    With the review page on `review_port`, or without it when None.
    """
    review = ["--review-port", str(review_port)] if review_port else ["--no-review-page"]
    return start_keel(
        home, "serve", "--host", "127.0.0.1", "--port", str(port), *review,
        cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **popen_options,
    )


def instance_of(home: Path, monkeypatch):
    """Point this process at `home` (as the daemon's sensors see it) and open its Dagster instance."""
    from keel.orchestrate import instance_for

    monkeypatch.setenv("KEEL_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(Path(home) / "dagster"))
    return instance_for(KeelHome(home))


@contextlib.contextmanager
def warehouse_held(home: Path):
    """Another process holds the warehouse, as a run writing it does, until the block ends: a run waits at its first step."""
    warehouse = str(KeelHome(home).warehouse)
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; con = duckdb.connect({warehouse!r}); print('held', flush=True); time.sleep(300)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()


def processes_in_session(session_id: int) -> list[str]:
    """The command lines of the live processes whose session is `session_id`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == session_id and running(int(entry.name)):
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120])
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
    return found


def wait_for(found, what: str, seconds: float = 120):
    """What `found()` returns once it is something, asked every quarter second for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := found():
            return result
        time.sleep(0.25)
    raise AssertionError(f"not within {seconds:.0f} s: {what}")


def run_at_its_first_step(instance, day: str) -> str | None:
    """The id of the run of `day` under way, once it has started a step (a step in the warehouse pool holds its slot)."""
    import dagster as dg

    from keel.orchestrate import run_under_way

    under_way = run_under_way(instance, day)
    if under_way and instance.all_logs(under_way.dagster_run.run_id, of_type=dg.DagsterEventType.STEP_START):
        return under_way.dagster_run.run_id
    return None


def killed_keel_run(home: Path, day: str, instance) -> tuple[str, int]:
    """A `keel run --date DAY` killed (SIGKILL) inside its first step, which holds the warehouse pool's slot; its run id and pid."""
    with warehouse_held(home):
        process = start_keel(home, "run", "--date", day)
        try:
            run_id = wait_for(lambda: run_at_its_first_step(instance, day), f"the run of {day} reached its first step")
        finally:
            process.kill()
            process.wait()
    return run_id, process.pid
