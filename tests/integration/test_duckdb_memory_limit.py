"""KEEL_DUCKDB_MEMORY_LIMIT reaches dbt's DuckDB connection through profiles.yml, not only keel's own."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT = str(Path(sys.executable).parent / "dbt")


def _dbt_debug(tmp_path, limit: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KEEL_WAREHOUSE": str(tmp_path / "warehouse.duckdb"), "KEEL_DUCKDB_MEMORY_LIMIT": limit}
    project = REPO_ROOT / "dbt_project"
    return subprocess.run(
        [DBT, "debug", "--project-dir", str(project), "--profiles-dir", str(project), "--log-path", str(tmp_path / "logs")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_dbt_connects_with_the_memory_limit_and_refuses_a_malformed_one(tmp_path):
    good = _dbt_debug(tmp_path, "512MB")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "'memory_limit': '512MB'" in good.stdout
    bad = _dbt_debug(tmp_path, "plenty")
    assert bad.returncode != 0
    assert "Memory must have a number" in bad.stdout + bad.stderr


def test_a_blank_memory_limit_means_duckdbs_default_for_dbt_as_for_keel(tmp_path):
    """`KEEL_DUCKDB_MEMORY_LIMIT=` (set, blank) failed every dbt step while keel's own connections took it as unset."""
    for blank in ("", "  "):
        result = _dbt_debug(tmp_path, blank)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "'memory_limit': '80%'" in result.stdout
