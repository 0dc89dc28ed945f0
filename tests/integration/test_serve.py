"""`keel serve` (what `make run` ends in) stops when it is told to, however it was started.

A script that starts `make run &` hands it SIGINT ignored (a shell without
job control does that to its background jobs), and `dagster dev` makes
SIGTERM do whatever SIGINT does: before keel reset SIGINT, such a server
ignored `kill`, and its webserver and daemon waited for it forever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.helpers import free_port, start_keel_serve, wait_for_http

pytestmark = pytest.mark.integration

STOP_WITHIN_S = 60


def _processes_in_session(session_id: int) -> list[str]:
    """The command lines of the live processes whose session is `session_id`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != session_id:
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z":
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:120])
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
    return found


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_a_server_started_with_sigint_ignored_stops_on_sigterm(tmp_path):
    port = free_port()
    log_path = tmp_path / "keel-serve.log"
    with open(log_path, "w") as log:
        server = start_keel_serve(tmp_path / "home", port, log, preexec_fn=_ignore_sigint)
        try:
            wait_for_http(f"http://127.0.0.1:{port}/server_info")
            # `keel serve` execs `dagster dev`, so the pid is the server's: the signal goes to it alone, as `kill PID` does.
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=STOP_WITHIN_S)
            except subprocess.TimeoutExpired:
                pytest.fail(f"keel serve ignored SIGTERM for {STOP_WITHIN_S} s:\n{log_path.read_text()[-2000:]}")
            # The code server and its children stop a moment after `dagster dev` has.
            deadline = time.monotonic() + STOP_WITHIN_S
            while (left := _processes_in_session(server.pid)) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert not left, f"processes of the server outlived it by {STOP_WITHIN_S} s:\n" + "\n".join(left)
            assert "Dagster services shut down" in log_path.read_text()
        finally:
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.wait(timeout=10)
