"""Command-line tools installed beside keel (in the same virtual environment)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def venv_tool(name: str) -> str:
    """Path of `name` in this environment's bin folder, else whatever PATH finds.

    sys.prefix, not sys.executable: a process started from a resolved
    interpreter path still has the virtual environment as its prefix.
    """
    candidate = Path(sys.prefix) / "bin" / name
    if candidate.exists():
        return str(candidate)
    return shutil.which(name) or name
