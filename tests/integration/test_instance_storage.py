"""A home's Dagster instance stores through keel's SQLite storage: Dagster's files, one engine per file.

Each test writes a real instance under a KEEL_HOME of its own and
materializes a small asset into it; none needs the demo.
"""

import shutil
from pathlib import Path

import dagster as dg
import pytest

from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from keel import dagster_storage
from keel.dagster_storage import EventLogStorageReusingEngines, RunStorageReusingEngine, ScheduleStorageReusingEngine
from keel.home import REPO_ROOT, KeelHome


@dg.asset
def a_number() -> int:
    return 7


DAYS = dg.DailyPartitionsDefinition(start_date="2026-01-01")


@dg.asset(partitions_def=DAYS, check_specs=[dg.AssetCheckSpec("rows_present", asset="a_day")])
def a_day(context: dg.AssetExecutionContext):
    if context.partition_keys[0] == "2026-01-09":
        raise RuntimeError("the day's file is unreadable")
    yield dg.MaterializeResult()
    yield dg.AssetCheckResult(check_name="rows_present", passed=context.partition_keys[0] != "2026-01-03")


def _instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(home / "dagster"))


def _materialize(instance: dg.DagsterInstance) -> None:
    assert dg.materialize([a_number], instance=instance).success


def _engines_of_two_connections(connect) -> tuple:
    with connect() as first:
        first_engine = first.engine
    with connect() as second:
        return first_engine, second.engine


def test_a_home_instance_stores_through_one_engine_per_file(tmp_path):
    home = KeelHome(tmp_path / "home").ensure()
    instance = _instance(home.root)
    try:
        assert isinstance(instance.event_log_storage, EventLogStorageReusingEngines)
        assert isinstance(instance.run_storage, RunStorageReusingEngine)
        assert isinstance(instance.schedule_storage, ScheduleStorageReusingEngine)
        _materialize(instance)
        _materialize(instance)
        assert len(instance.get_runs()) == 2
        assert instance.get_latest_materialization_event(a_number.key) is not None
        assert sorted(p.name for p in (home.dagster_home / "history").iterdir()) == ["runs", "runs.db"]

        run_id = instance.get_runs()[0].run_id
        first, second = _engines_of_two_connections(lambda: instance.event_log_storage.run_connection(run_id))
        assert first is second
        first, second = _engines_of_two_connections(instance.run_storage.connect)
        assert first is second
        first, second = _engines_of_two_connections(instance.schedule_storage.connect)
        assert first is second
    finally:
        instance.dispose()


def test_only_the_latest_run_files_keep_their_engine(tmp_path, monkeypatch):
    """The daemon and the webserver read many runs' files: their engines must not pile up."""
    monkeypatch.setattr(dagster_storage, "ENGINES_KEPT_FOR_RUN_FILES", 3)
    storage = EventLogStorageReusingEngines(str(tmp_path / "runs"))
    try:
        for run in ("run_a", "run_b", "run_c", "run_a", "run_d"):
            with storage.run_connection(run):
                pass
        assert list(storage._engines) == ["run_c", "run_a", "run_d"]
    finally:
        storage.dispose()


def test_a_home_written_by_dagsters_default_storage_reads_the_same(tmp_path):
    """Homes made before keel had its storage class: the same runs and materializations after the switch."""
    home = KeelHome(tmp_path / "home")
    home.dagster_home.mkdir(parents=True)
    shutil.copyfile(REPO_ROOT / "dagster.yaml", home.dagster_home / "dagster.yaml")
    before = _instance(home.root)
    assert not isinstance(before.event_log_storage, EventLogStorageReusingEngines)
    _materialize(before)
    run_ids = [run.run_id for run in before.get_runs()]
    materialized = before.get_latest_materialization_event(a_number.key).run_id
    before.dispose()

    home.ensure()
    after = _instance(home.root)
    try:
        assert isinstance(after.event_log_storage, EventLogStorageReusingEngines)
        assert [run.run_id for run in after.get_runs()] == run_ids
        assert after.get_latest_materialization_event(a_number.key).run_id == materialized
    finally:
        after.dispose()


def test_a_copied_home_is_refused_until_keel_points_it_at_itself(tmp_path):
    original = KeelHome(tmp_path / "original").ensure()
    instance = _instance(original.root)
    _materialize(instance)
    instance.dispose()
    shutil.copytree(original.root, tmp_path / "copy")
    copy = KeelHome(tmp_path / "copy")

    with pytest.raises(ValueError, match=r"copy/dagster/dagster\.yaml: its storage is another instance's folder .*original/dagster"):
        _instance(copy.root)

    copy.ensure()
    copied = _instance(copy.root)
    try:
        _materialize(copied)
        assert len(copied.get_runs()) == 2
    finally:
        copied.dispose()
    untouched = _instance(original.root)
    try:
        assert len(untouched.get_runs()) == 1
    finally:
        untouched.dispose()


def test_a_moved_home_is_refused_without_recreating_its_old_folder(tmp_path):
    KeelHome(tmp_path / "before").ensure()
    (tmp_path / "before").rename(tmp_path / "after")

    with pytest.raises(ValueError, match=r"before/dagster'?, which has no dagster\.yaml: a home moved"):
        _instance(tmp_path / "after")
    assert not (tmp_path / "before").exists()

    KeelHome(tmp_path / "after").ensure()
    moved = _instance(tmp_path / "after")
    try:
        _materialize(moved)
        assert len(moved.get_runs()) == 1
    finally:
        moved.dispose()


def test_a_check_on_a_partitioned_asset_is_recorded_once_per_run(tmp_path):
    # Under Dagster's own storage each one-day run left its planned row beside
    # the result (shown as "Skipped" in the check's history in the UI).
    home = KeelHome(tmp_path / "home").ensure()
    instance = _instance(home.root)
    key = dg.AssetCheckKey(a_day.key, "rows_present")
    try:
        for day in ("2026-01-02", "2026-01-03"):
            assert dg.materialize([a_day], instance=instance, partition_key=day).success
        two_days = {"dagster/asset_partition_range_start": "2026-01-04", "dagster/asset_partition_range_end": "2026-01-05"}
        assert dg.materialize([a_day], instance=instance, tags=two_days).success
        assert not dg.materialize([a_day], instance=instance, partition_key="2026-01-09", raise_on_error=False).success

        records = instance.event_log_storage.get_asset_check_execution_history(key, limit=20)
        runs = {run.run_id: run for run in instance.get_runs()}
        by_run = {}
        for record in records:
            by_run.setdefault(runs[record.run_id].tags.get("dagster/partition", "2026-01-04..05"), []).append(record.status)
        assert by_run == {
            "2026-01-02": [AssetCheckExecutionRecordStatus.SUCCEEDED],
            "2026-01-03": [AssetCheckExecutionRecordStatus.FAILED],
            "2026-01-04..05": [AssetCheckExecutionRecordStatus.SUCCEEDED],
            # The run failed before the check ran: its planned row stays, as Dagster records it.
            "2026-01-09": [AssetCheckExecutionRecordStatus.PLANNED],
        }
        latest = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
        assert latest.status == AssetCheckExecutionRecordStatus.PLANNED
    finally:
        instance.dispose()
