"""`keel serve` (what `make run` ends in) serves the UI and the review page, and stops when it is told to, however it was started.

A script that starts `make run &` hands it SIGINT ignored (a shell without
job control does that to its background jobs), and `dagster dev` makes
SIGTERM do whatever SIGINT does: before keel reset SIGINT, such a server
ignored `kill`, and its webserver and daemon waited for it forever. The
review page is a process `keel serve` started before it became `dagster
dev`: it must stop with it, with nothing left to stop it but the kernel.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.integration.helpers import free_port, processes_in_session, start_keel_serve, wait_for_http

pytestmark = pytest.mark.integration

STOP_WITHIN_S = 60


def _review_page_answer(url: str, timeout: float = 120) -> str:
    """The body of the review page's first answer (its 404 too: a home with no warehouse yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except urllib.error.HTTPError as answer:
            return answer.read().decode()
        except OSError:
            time.sleep(1)
    raise AssertionError(f"{url} did not answer within {timeout}s")


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_a_server_started_with_sigint_ignored_stops_on_sigterm_with_its_review_page(tmp_path):
    port = free_port()
    review_port = next(candidate for candidate in iter(free_port, None) if candidate != port)
    log_path = tmp_path / "keel-serve.log"
    with open(log_path, "w") as log:
        server = start_keel_serve(tmp_path / "home", port, log, review_port=review_port, preexec_fn=_ignore_sigint)
        try:
            wait_for_http(f"http://127.0.0.1:{port}/server_info")
            # A home with no day decided yet: the page says so (404), naming what to run first.
            assert "run `keel demo` or `keel run --date D` first" in _review_page_answer(f"http://127.0.0.1:{review_port}/")
            assert "keel review serve" in "\n".join(processes_in_session(server.pid))
            # `keel serve` execs `dagster dev`, so the pid is the server's: the signal goes to it alone, as `kill PID` does.
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=STOP_WITHIN_S)
            except subprocess.TimeoutExpired:
                pytest.fail(f"keel serve ignored SIGTERM for {STOP_WITHIN_S} s:\n{log_path.read_text()[-2000:]}")
            # The code server and its children stop a moment after `dagster dev` has.
            deadline = time.monotonic() + STOP_WITHIN_S
            while (left := processes_in_session(server.pid)) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert not left, f"processes of the server outlived it by {STOP_WITHIN_S} s:\n" + "\n".join(left)
            with pytest.raises(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{review_port}/", timeout=5)
            assert "Dagster services shut down" in log_path.read_text()
        finally:
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.wait(timeout=10)
