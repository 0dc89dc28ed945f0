"""Links into the Dagster UI that keel prints: light, for messages written when anything heavier may be unusable.

(After Ctrl-C has interrupted a step midway through importing numpy, say, a
second import of it fails in that process.)
"""

from __future__ import annotations

import os

UI_URL_ENV = "KEEL_UI_URL"
DEFAULT_UI_URL = "http://127.0.0.1:3000"


def ui_base_url(ui_url: str | None = None) -> str:
    """Where the Dagster UI is served: `ui_url`, else KEEL_UI_URL, else keel serve's default."""
    return (ui_url or os.environ.get(UI_URL_ENV) or DEFAULT_UI_URL).rstrip("/")


def run_link(run_id: str, ui_url: str | None = None) -> str:
    """The run's page in the Dagster UI (its steps, logs and events)."""
    return f"{ui_base_url(ui_url)}/runs/{run_id}"
