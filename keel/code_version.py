"""Which code produced a record: the git commit of the checkout, if there is one."""

from __future__ import annotations

import subprocess
from functools import lru_cache

from keel.home import REPO_ROOT


@lru_cache(maxsize=1)
def git_commit() -> str:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    commit = result.stdout.strip()
    if result.returncode != 0 or not commit:
        return "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=5)
    return commit + ("-dirty" if dirty.stdout.strip() else "")
