"""Running the `keel` CLI as a user does, in a subprocess against a given KEEL_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

KEEL = str(Path(sys.executable).with_name("keel"))


def keel(home: Path, *args: str, check: bool = True, timeout: int = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `keel ARGS` against `home`; `env` adds variables (KEEL_ALERT_FILE, ...)."""
    env = {**os.environ, **(env or {}), "KEEL_HOME": str(home), "DAGSTER_HOME": str(Path(home) / "dagster")}
    env.pop("KEEL_WAREHOUSE", None)
    result = subprocess.run([KEEL, *args], env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"keel {' '.join(args)} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
    return result


def keel_json(home: Path, *args: str, check: bool = True) -> dict:
    result = keel(home, *args, "--json", check=check)
    return json.loads(result.stdout)
