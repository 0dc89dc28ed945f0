"""What keel costs outside a day's run: loading the definitions, and every sensor's and schedule's tick.

The code server loads the definitions when it starts and whenever the code is
reloaded, and every run worker loads them again; the daemon asks the code
server to tick each sensor every 30 s to 5 min, the landing sensor over
every file in the landing folder. `keel bench-overhead` measures both on
this machine, so the figures in docs/BENCHMARKS.md come from a command
anyone can run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
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


def land_tick_files(home: KeelHome, files: int, today: dt.date) -> int:
    """`files` small new landing files, applications and outcomes alternately, back from yesterday.

    A day whose file the home already has (the demo's days) is passed over.
    Returns how many are dated before the first day keel decides: the
    landing sensor rejects those.
    """
    from assets.constants import DAILY_PARTITIONS

    first_day = dt.date.fromisoformat(DAILY_PARTITIONS.get_first_partition_key())
    written_at = time.time() - 3600
    written = before_first_day = 0
    day = today
    while written < files:
        day -= dt.timedelta(days=1)
        for source in SOURCES[: min(len(SOURCES), files - written)]:
            folder = home.landing_dir(source)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / landing_file_name(source, day)
            if path.exists():
                continue
            path.write_text(f"application_id,application_date\nA{written:08d},{day.isoformat()}\n")
            os.utime(path, (written_at, written_at))  # landed earlier: none is still settling (keel.landing_watch)
            written += 1
            before_first_day += day < first_day
    return before_first_day


def prepare_sensor_home(workdir: Path, source: Path | None, demo_days: int, progress: Callable[[str], None]) -> KeelHome:
    """A home with decided days for the sensors to look at: a copy of `source`, or the demo's first `demo_days` days."""
    target = workdir / "sensor-home"
    if source is not None:
        progress(f"copying {source}")
        shutil.copytree(source, target)
        return KeelHome(target).ensure()  # its dagster.yaml names the copy's instance folder
    progress(f"keel demo --days {demo_days} for the sensors to look at")
    env = {**os.environ, "KEEL_HOME": str(target), "DAGSTER_HOME": str(target / "dagster"), "PYTHONPATH": _pythonpath()}
    done = subprocess.run(
        [sys.executable, "-m", "keel.cli.main", "demo", "--days", str(demo_days), "--json"], cwd=REPOSITORY, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"keel demo --days {demo_days} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    return KeelHome(target)


def measure_sensor_ticks(home: KeelHome, progress: Callable[[str], None] = lambda _: None) -> dict[str, dict]:
    """Each sensor's and schedule's first and next tick, each in a fresh interpreter (keel.bench.sensor_tick).

    A code server ticks every sensor in one process, so a library one tick
    imports is there for the others; a fresh interpreter per sensor gives
    each the cost of its own first tick.
    """
    env = {**os.environ, "KEEL_HOME": str(home.root), "DAGSTER_HOME": str(home.dagster_home), "PYTHONPATH": _pythonpath()}
    names = json.loads(_run_tick_script("--list", env).stdout.strip().splitlines()[-1])
    ticks = {}
    for index, name in enumerate(names):
        progress(f"{name}: first and next tick ({index + 1}/{len(names)})")
        ticks[name] = json.loads(_run_tick_script(name, env).stdout.strip().splitlines()[-1])
    return ticks


def _run_tick_script(argument: str, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "keel.bench.sensor_tick", argument], cwd=REPOSITORY, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"keel.bench.sensor_tick {argument} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    return done


def _pythonpath() -> str:
    return os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))


def measure_overhead(
    workdir: Path,
    loads: int,
    files: int,
    progress: Callable[[str], None] = lambda _: None,
    home: Path | None = None,
    demo_days: int = 2,
) -> dict:
    load_seconds = measure_definitions_load(loads, workdir / "home", progress)
    sensor_home = prepare_sensor_home(workdir, home, demo_days, progress)
    progress(f"landing {files} files")
    before_first_day = land_tick_files(sensor_home, files, dt.datetime.now(dt.timezone.utc).date())
    ticks = measure_sensor_ticks(sensor_home, progress)
    landing = ticks["landing_sensor"]
    return {
        "definitions_load_s": load_seconds,
        "definitions_load_median_s": round(statistics.median(load_seconds), 3),
        "definitions_load_max_s": max(load_seconds),
        "sensor_home": f"a copy of {home}" if home is not None else f"keel demo --days {demo_days}",
        "sensor_ticks": ticks,
        "sensor_tick_max_s": max(max(tick["first_tick_s"], tick["next_tick_s"]) for tick in ticks.values()),
        "landing_files": files,
        "landing_files_before_first_day": before_first_day,
        "landing_first_tick_s": landing["first_tick_s"],
        "landing_first_tick_run_requests": landing["first_tick_run_requests"],
        "landing_next_tick_s": landing["next_tick_s"],
        "landing_next_tick_run_requests": landing["next_tick_run_requests"],
    }
