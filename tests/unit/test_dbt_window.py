"""The partition window reaches dbt in the environment; dbt's parse is kept per home between runs."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess

import pytest

from keel.dbt_window import END_VARIABLE, START_VARIABLE, partition_window_env
from keel.executables import venv_tool
from resources.dbt import DBT_PROJECT_DIR, PARTIAL_PARSE, scratch_target


def test_dagsters_exclusive_end_becomes_the_macros_inclusive_last_day():
    env = partition_window_env(dt.date(2026, 1, 1), dt.date(2026, 1, 2))
    assert env == {START_VARIABLE: "2026-01-01", END_VARIABLE: "2026-01-01"}
    assert partition_window_env(dt.date(2026, 1, 1), dt.date(2026, 1, 11))[END_VARIABLE] == "2026-01-10"
    with pytest.raises(ValueError, match="empty partition window"):
        partition_window_env(dt.date(2026, 1, 2), dt.date(2026, 1, 2))


def test_the_scratch_target_starts_from_the_saved_parse_and_keeps_the_new_one(tmp_path):
    saved_dir = tmp_path / "home" / "dbt"
    with scratch_target(saved_dir) as target:
        assert not (target / PARTIAL_PARSE).exists()  # first run: dbt parses everything
        (target / PARTIAL_PARSE).write_bytes(b"parse 1")
        (target / "run_results.json").write_text("{}")
    assert (saved_dir / PARTIAL_PARSE).read_bytes() == b"parse 1"
    assert not target.exists(), "the scratch target is removed"
    with scratch_target(saved_dir) as target:
        assert (target / PARTIAL_PARSE).read_bytes() == b"parse 1"
        (target / PARTIAL_PARSE).write_bytes(b"parse 2")
    assert (saved_dir / PARTIAL_PARSE).read_bytes() == b"parse 2"
    assert [p.name for p in saved_dir.iterdir()] == [PARTIAL_PARSE]


def test_a_failed_build_still_removes_its_scratch_target(tmp_path):
    with pytest.raises(RuntimeError), scratch_target(tmp_path / "dbt") as target:
        raise RuntimeError("dbt failed")
    assert not target.exists()


def _compile_features(work, window: dict[str, str]) -> tuple[list[str], str]:
    """`dbt compile` of the feature mart with this window in the environment: dbt's event names and the SQL it compiled."""
    env = {name: value for name, value in os.environ.items() if name not in (START_VARIABLE, END_VARIABLE)}
    env.update(window, KEEL_WAREHOUSE=str(work / "warehouse.duckdb"), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    target = work / "target"
    command = [
        venv_tool("dbt"), "--log-format", "json", "--log-level", "debug", "compile", "--select", "application_features",
        "--target-path", str(target), "--log-path", str(work / "logs"), "--profiles-dir", str(DBT_PROJECT_DIR),
    ]
    compiled = subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False)
    assert compiled.returncode == 0, compiled.stdout[-3000:] + compiled.stderr[-3000:]
    events = [json.loads(line)["info"]["name"] for line in compiled.stdout.splitlines() if line.startswith("{")]
    return events, (target / "compiled" / "keel" / "models" / "marts" / "application_features.sql").read_text()


def test_each_run_builds_its_own_window_and_a_new_day_does_not_make_dbt_reparse(tmp_path):
    _, first_day = _compile_features(tmp_path, partition_window_env(dt.date(2026, 1, 1), dt.date(2026, 1, 2)))
    assert "between cast('2026-01-01' as date)" in first_day
    assert "and cast('2026-01-01' as date)" in first_day

    events, next_days = _compile_features(tmp_path, partition_window_env(dt.date(2026, 1, 2), dt.date(2026, 1, 5)))
    assert "between cast('2026-01-02' as date)" in next_days
    assert "and cast('2026-01-04' as date)" in next_days
    assert "PartialParsingSkipParsing" in events, "dbt reparsed the project for a new window"
    assert "PartialParsingFile" not in events

    events, by_hand = _compile_features(tmp_path, {})
    assert "between cast('1900-01-01' as date)" in by_hand and "and cast('2999-12-31' as date)" in by_hand
    assert "PartialParsingSkipParsing" in events
