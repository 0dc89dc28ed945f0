"""One sensor's or schedule's first and next tick, timed in a fresh interpreter as a code server ticks it.

`python -m keel.bench.sensor_tick NAME` loads the definitions (not timed:
a code server has loaded them before its first tick), then evaluates the
sensor twice through Dagster's `evaluate_tick`, as the daemon asks the code
server to: the first tick with no cursor, the next with the first's cursor
(a schedule: twice at the same scheduled time). KEEL_HOME and DAGSTER_HOME
name the home. Prints one JSON object; keel.bench.overhead runs it once per
sensor and schedule (`--list` prints their names).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import sys
import time

# A first tick that imports one of these waits for it (on 2026-12-07, imported alone: DuckDB 0.11 s, pandas with NumPy and pyarrow 0.40 s).
WATCHED_LIBRARIES = ("pandas", "numpy", "pyarrow", "duckdb", "pandera", "sklearn", "great_expectations", "matplotlib")


def _ticks(name: str) -> dict:
    import dagster as dg

    import definitions

    repository = definitions.defs.get_repository_def()
    before = {library for library in WATCHED_LIBRARIES if library in sys.modules}
    schedules = {schedule.name: schedule for schedule in repository.schedule_defs}
    with dg.DagsterInstance.get() as instance, contextlib.redirect_stderr(io.StringIO()):
        if name in schedules:
            scheduled_at = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0)

            def tick(_cursor):
                return schedules[name].evaluate_tick(
                    dg.build_schedule_context(instance=instance, repository_def=repository, scheduled_execution_time=scheduled_at)
                )
        else:
            sensor = repository.get_sensor_def(name)

            def tick(cursor):
                return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=repository, sensor_name=name))

        started = time.perf_counter()
        first = tick(None)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        following = tick(getattr(first, "cursor", None))
        next_s = time.perf_counter() - started
    return {
        "kind": "schedule" if name in schedules else "sensor",
        "first_tick_s": round(first_s, 3),
        "first_tick_run_requests": len(first.run_requests or []),
        "next_tick_s": round(next_s, 3),
        "next_tick_run_requests": len(following.run_requests or []),
        "libraries_imported": sorted({library for library in WATCHED_LIBRARIES if library in sys.modules} - before),
    }


def _names() -> list[str]:
    import definitions

    repository = definitions.defs.get_repository_def()
    return sorted(sensor.name for sensor in repository.sensor_defs) + sorted(schedule.name for schedule in repository.schedule_defs)


if __name__ == "__main__":
    print(json.dumps(_names() if sys.argv[1] == "--list" else _ticks(sys.argv[1]), sort_keys=True))
