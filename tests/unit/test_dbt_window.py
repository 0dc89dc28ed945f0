"""The partition window reaches dbt in the environment; dbt's parse is kept per home between runs."""

from __future__ import annotations

import datetime as dt

import pytest

from keel.dbt_window import END_VARIABLE, START_VARIABLE, partition_window_env
from resources.dbt import PARTIAL_PARSE, scratch_target


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
