"""Shared fixtures: every test that writes state gets its own KEEL_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def keel_home(tmp_path, monkeypatch):
    from keel.home import KeelHome

    home = KeelHome(tmp_path / "keel_home").ensure()
    monkeypatch.setenv("KEEL_HOME", str(home.root))
    monkeypatch.setenv("DAGSTER_HOME", str(home.dagster_home))
    monkeypatch.setenv("KEEL_WAREHOUSE", str(home.warehouse))
    return home


@pytest.fixture
def output_dir(request) -> Path:
    """A folder kept after the test (screenshots, reports) under test-output/."""
    folder = REPO_ROOT / "test-output" / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def stack_reads(monkeypatch) -> list[str]:
    """The module of each caller of `inspect.stack()` while the test runs (dbt's behavior flags call it to name their source)."""
    import inspect
    import sys

    reads: list[str] = []
    stack = inspect.stack

    def counted_stack(*args, **kwargs):
        reads.append(sys._getframe(1).f_globals.get("__name__"))
        return stack(*args, **kwargs)

    monkeypatch.setattr(inspect, "stack", counted_stack)
    return reads
