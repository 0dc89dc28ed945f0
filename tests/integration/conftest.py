"""One demo KEEL_HOME built once per test session, copied for each module that changes it.

Building the demo (history, first model, three live days) takes about a
minute; tests that only read it share the template, tests that write get
their own copy so they cannot disturb each other.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import copy_home, keel_json

DEMO_DAYS = 3


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> tuple[Path, dict]:
    """A demo home (read-only by convention) and the JSON summary `keel demo` printed."""
    home = tmp_path_factory.mktemp("demo_template") / "home"
    summary = keel_json(home, "demo", "--days", str(DEMO_DAYS))
    return home, summary


@pytest.fixture(scope="module")
def demo_copy(demo_template, tmp_path_factory) -> tuple[Path, dict]:
    """A private copy of the demo home for a module whose tests write to it."""
    template, summary = demo_template
    home = tmp_path_factory.mktemp("demo_copy") / "home"
    copy_home(template, home)
    return home, summary
