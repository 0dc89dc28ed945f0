"""`keel serve` (and `make run`) on a port another process holds: refused at once, not a daemon left without its UI."""

import socket

import pytest
from typer.testing import CliRunner

from keel.cli.main import app
from keel.ports import PortInUse, ensure_port_free


@pytest.fixture
def held_port():
    """A port on 127.0.0.1 that a listening socket holds, as a running server would."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_a_held_port_is_refused_naming_it_and_another_to_use(held_port):
    with pytest.raises(PortInUse, match=f"127.0.0.1:{held_port} is already in use") as refused:
        ensure_port_free("127.0.0.1", held_port)
    assert f"--port {held_port + 1}" in str(refused.value) and f"make run PORT={held_port + 1}" in str(refused.value)


def test_a_free_port_passes_and_stays_free():
    with socket.socket() as finder:
        finder.bind(("127.0.0.1", 0))
        port = finder.getsockname()[1]
    ensure_port_free("127.0.0.1", port)
    ensure_port_free("127.0.0.1", port)  # the check itself does not keep the port


def test_an_address_not_of_this_machine_is_refused():
    with pytest.raises(PortInUse, match="not an address of this machine"):
        ensure_port_free("192.0.2.1", 3000)  # TEST-NET-1: never assigned to a host


def test_keel_serve_on_a_held_port_exits_1_before_starting_anything(held_port, tmp_path, monkeypatch):
    monkeypatch.setenv("KEEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    result = CliRunner().invoke(app, ["serve", "--port", str(held_port)])
    assert result.exit_code == 1 and f"127.0.0.1:{held_port} is already in use" in result.output
    assert "Dagster UI on" not in result.output and not (tmp_path / "home").exists(), "nothing was started or created"


def test_keel_serve_check_only_says_whether_the_address_is_free(held_port, tmp_path, monkeypatch):
    """What `make run` asks before it loads the demo, so a held port is known before the wait, not after."""
    monkeypatch.setenv("KEEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    held = CliRunner().invoke(app, ["serve", "--port", str(held_port), "--check"])
    assert held.exit_code == 1 and "is already in use" in held.output
    free_port, free_review_port = _two_free_ports()
    free = CliRunner().invoke(app, ["serve", "--port", str(free_port), "--review-port", str(free_review_port), "--check"])
    assert free.exit_code == 0
    assert free.output.strip() == f"127.0.0.1:{free_port} is free, and 127.0.0.1:{free_review_port} for the review page"
    without_page = CliRunner().invoke(app, ["serve", "--port", str(free_port), "--no-review-page", "--check"])
    assert without_page.exit_code == 0 and without_page.output.strip() == f"127.0.0.1:{free_port} is free"


def _two_free_ports() -> tuple[int, int]:
    with socket.socket() as first, socket.socket() as second:
        first.bind(("127.0.0.1", 0))
        second.bind(("127.0.0.1", 0))
        return first.getsockname()[1], second.getsockname()[1]


def test_keel_serve_with_the_review_pages_port_held_says_how_to_choose_another(held_port, tmp_path, monkeypatch):
    """The review page is served beside the UI (`make run`): its port is checked before anything starts, too."""
    monkeypatch.setenv("KEEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    ui_port, _ = _two_free_ports()
    result = CliRunner().invoke(app, ["serve", "--port", str(ui_port), "--review-port", str(held_port)])
    assert result.exit_code == 1 and f"127.0.0.1:{held_port} is already in use" in result.output
    assert f"`keel serve --review-port {held_port + 1}`, `make run REVIEW_PORT={held_port + 1}`" in result.output
    assert "Dagster UI on" not in result.output and not (tmp_path / "home").exists(), "nothing was started or created"
    same = CliRunner().invoke(app, ["serve", "--port", str(ui_port), "--review-port", str(ui_port), "--check"])
    assert same.exit_code == 1 and f"cannot share port {ui_port}" in same.output
