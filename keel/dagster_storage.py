"""Dagster's SQLite instance storage, reusing one SQLAlchemy engine per database file.

Dagster's SQLite run, event log and schedule storages create a new SQLAlchemy
engine for every connection they open, and an engine's cache of compiled
statements goes with it, so each stored event pays for building an engine and
compiling its INSERT again. A run stores ~150 events (every materialization,
check evaluation and step event, and the planned events of each): a profile
of `keel demo` found ~1 s of each ~4-5 s day there (docs/BENCHMARKS.md has
what keeping the engines gained). These subclasses keep each file's engine
for the life of the storage. Connections are not pooled (NullPool, as
Dagster's), so nothing stays open between uses: the SQLite files behave as
before, and a deleted run's file is created afresh on its next use, as before.

The files and their layout are Dagster's own (`history/runs.db`,
`history/runs/<run>.db`, `schedules/schedules.db`), so a home written before
keel used this class reads the same and can go back to Dagster's default.

The event log storage also mends how Dagster 1.13 records a check on a
partitioned asset (see `EventLogStorageReusingEngines._update_asset_check_evaluation`).
"""

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import sqlalchemy as sa
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SQLITE_BUSY_TIMEOUT_SECONDS, SqliteEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster._serdes import ConfigurableClassData
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from dagster._core.instance import DagsterInstance

# A run's events go to a file of its own: a long-lived process (the daemon, the
# webserver) reads many, so only the most recently used keep their engine.
ENGINES_KEPT_FOR_RUN_FILES = 32


class _ConnectsThroughOneEngine:
    """Dagster's `connect` of a storage with one SQLite file, through one engine made up front."""

    _conn_string: str

    def __init__(self, conn_string: str, inst_data: ConfigurableClassData | None = None):
        self._engine = sa.create_engine(conn_string, poolclass=NullPool)
        super().__init__(conn_string, inst_data)  # type: ignore[call-arg]

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        super().dispose()  # type: ignore[misc]
        self._engine.dispose()


class RunStorageReusingEngine(_ConnectsThroughOneEngine, SqliteRunStorage):
    pass


class ScheduleStorageReusingEngine(_ConnectsThroughOneEngine, SqliteScheduleStorage):
    pass


class EventLogStorageReusingEngines(SqliteEventLogStorage):
    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, sa.Engine] = OrderedDict()
        super().__init__(base_dir, inst_data)

    def _engine_for(self, shard: str) -> sa.Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = sa.create_engine(
                self.conn_string_for_shard(shard),
                poolclass=NullPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            self._engines[shard] = engine
            if len(self._engines) > ENGINES_KEPT_FOR_RUN_FILES:
                self._engines.popitem(last=False)[1].dispose()
        self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sa.Connection]:
        # Dagster's own _connect, with the engine kept: one connection at a time per storage.
        with self._db_lock:
            engine = self._engine_for(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _update_asset_check_evaluation(self, event: EventLogEntry, event_id: int | None) -> None:
        """Record a check's result on the row its run planned, also when the run named a partition.

        Dagster 1.13 plans every check of a one-day run with the run's day,
        partitioned or not (the planned event takes the run's partitions), but
        records an unpartitioned check's result without one, so the result
        missed its planned row and was added beside it: the check's history
        in the UI showed every run twice, once as "Skipped". keel's checks
        are unpartitioned (each result names its day in metadata), so such a
        result is put on the run's planned row, as Dagster intends: one row per
        check and run, planned, then passed or failed. A run of several days
        plans a row per day; they become that one row.
        """
        evaluation = event.get_dagster_event().event_specific_data
        if evaluation.partition is None and event.run_id:
            table = AssetCheckExecutionsTable
            with self.index_connection() as conn:
                planned_for_a_day = [
                    row.id
                    for row in conn.execute(
                        sa.select(table.c.id)
                        .where(
                            table.c.asset_key == evaluation.asset_key.to_string(),
                            table.c.check_name == evaluation.check_name,
                            table.c.run_id == event.run_id,
                            table.c.partition.is_not(None),
                            table.c.execution_status == AssetCheckExecutionRecordStatus.PLANNED.value,
                        )
                        .order_by(table.c.id)
                    )
                ]
                if planned_for_a_day:
                    first, *others = planned_for_a_day
                    conn.execute(table.update().where(table.c.id == first).values(partition=None))
                    if others:
                        conn.execute(table.delete().where(table.c.id.in_(others)))
        super()._update_asset_check_evaluation(event, event_id)

    def register_instance(self, instance: "DagsterInstance") -> None:
        # A home's dagster.yaml names its own folder: copied to another home, it
        # would send that home's runs to the first one's files. Refuse instead.
        expected = os.path.join(os.path.realpath(instance.root_directory), "history", "runs")
        if os.path.realpath(self._base_dir) != expected:
            raise ValueError(
                f"{os.path.join(instance.root_directory, 'dagster.yaml')}: its storage is another "
                f"instance's folder ({os.path.dirname(os.path.dirname(os.path.normpath(self._base_dir)))}): "
                "a home copied or moved? Any keel command with KEEL_HOME set to this home writes its own"
            )
        super().register_instance(instance)

    def dispose(self) -> None:
        super().dispose()
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()


class SqliteStorageReusingEngines(DagsterSqliteStorage):
    """Dagster's SQLite storage for a home's instance, each file's engine made once.

    Configured in the home's `dagster.yaml` (written by `KeelHome.ensure`) as
    `storage: custom:` with the absolute `base_dir` of that home's Dagster
    folder, the folder Dagster's default storage uses.
    """

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        # A home moved elsewhere: its dagster.yaml still names the old folder,
        # where Dagster's storages would create empty files. Refuse first.
        if not os.path.isfile(os.path.join(base_dir, "dagster.yaml")):
            raise ValueError(
                f"the instance's storage is {base_dir!r}, which has no dagster.yaml: a home moved? "
                "Any keel command with KEEL_HOME set to the home writes its dagster.yaml anew"
            )
        self.base_dir = base_dir
        self._run_storage = RunStorageReusingEngine.from_local(os.path.join(base_dir, "history", ""))
        self._event_log_storage = EventLogStorageReusingEngines(os.path.join(base_dir, "history", "runs", ""))
        self._schedule_storage = ScheduleStorageReusingEngine.from_local(os.path.join(base_dir, "schedules"))
        self._inst_data = inst_data
        # Not DagsterSqliteStorage.__init__: it would open Dagster's own three storages first.
        super(DagsterSqliteStorage, self).__init__()

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData, config_value) -> "SqliteStorageReusingEngines":  # type: ignore[override]
        # Not from_local, which makes the folder first: it is the home's, made by KeelHome.ensure.
        return cls(inst_data=inst_data, **config_value)
