"""What keel costs outside a day's run: loading the definitions, and a landing sensor tick.

The code server loads the definitions when it starts and whenever the code is
reloaded, and every run worker loads them again; the landing sensor ticks
every 30 seconds over every file in the landing folder. `keel bench-overhead`
measures both on this machine, so the figures in docs/BENCHMARKS.md come
from a command anyone can run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from keel.home import KeelHome
from keel.landing_zone import landing_file_name

REPOSITORY = Path(__file__).resolve().parents[2]
SOURCES = ("applications", "outcomes")
_LOAD_DEFINITIONS = (
    "import time\n"
    "started = time.perf_counter()\n"
    "import definitions\n"
    "definitions.defs.get_repository_def()\n"
    "print(time.perf_counter() - started)\n"
)


def measure_definitions_load(repeats: int, home: Path, progress: Callable[[str], None] = lambda _: None) -> list[float]:
    """Seconds to import the definitions and build the repository, each in a fresh interpreter (as a code server starts)."""
    env = {**os.environ, "KEEL_HOME": str(home), "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))}
    seconds = []
    for attempt in range(repeats):
        progress(f"definitions load {attempt + 1}/{repeats}")
        done = subprocess.run([sys.executable, "-c", _LOAD_DEFINITIONS], cwd=REPOSITORY, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"loading the definitions failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
        seconds.append(round(float(done.stdout.strip().splitlines()[-1]), 3))
    return seconds


def land_tick_files(home: KeelHome, files: int, today: dt.date) -> None:
    """`files` small landing files, applications and outcomes alternately, one per source and day back from yesterday."""
    written_at = time.time() - 3600
    for index in range(files):
        source = SOURCES[index % len(SOURCES)]
        day = today - dt.timedelta(days=1 + index // len(SOURCES))
        folder = home.landing_dir(source)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / landing_file_name(source, day)
        path.write_text(f"application_id,application_date\nA{index:08d},{day.isoformat()}\n")
        os.utime(path, (written_at, written_at))  # landed earlier: none is still settling (keel.landing_watch)


def measure_landing_ticks(workdir: Path, files: int, progress: Callable[[str], None] = lambda _: None) -> dict:
    """The landing sensor's first tick over `files` new files (each hashed), and the next tick (nothing changed).

    The sensor runs against a real Dagster instance in `workdir` with an
    empty event log, as on a new installation; this process is pointed at a
    KEEL_HOME in `workdir` (as `keel bench` is).
    """
    import dagster as dg

    from sensors.landing import landing_sensor

    home = KeelHome(workdir / "home")
    progress(f"landing {files} files")
    land_tick_files(home, files, dt.date.today())
    home.export_env()
    instance_dir = workdir / "dagster"
    instance_dir.mkdir(parents=True, exist_ok=True)
    # The ticks' log lines (one per outcomes file that goes in with its day's run) are kept, as the
    # daemon keeps them with the tick, rather than written to the terminal: 500 lines, and console time.
    with contextlib.redirect_stderr(io.StringIO()), dg.DagsterInstance.local_temp(str(instance_dir)) as instance:
        progress("first landing sensor tick")
        started = time.perf_counter()
        first = landing_sensor(dg.build_sensor_context(instance=instance, cursor=None))
        first_s = time.perf_counter() - started
        progress("next landing sensor tick")
        started = time.perf_counter()
        second = landing_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        second_s = time.perf_counter() - started
    return {
        "landing_files": files,
        "landing_first_tick_s": round(first_s, 3),
        "landing_first_tick_run_requests": len(first.run_requests or []),
        "landing_next_tick_s": round(second_s, 3),
        "landing_next_tick_run_requests": len(second.run_requests or []),
    }


def measure_overhead(workdir: Path, loads: int, files: int, progress: Callable[[str], None] = lambda _: None) -> dict:
    load_seconds = measure_definitions_load(loads, workdir / "home", progress)
    return {
        "definitions_load_s": load_seconds,
        "definitions_load_median_s": round(statistics.median(load_seconds), 3),
        "definitions_load_max_s": max(load_seconds),
        **measure_landing_ticks(workdir, files, progress),
    }
