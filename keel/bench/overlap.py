"""Days whose runs overlap, as the daemon runs them when several files land together.

After an outage a source often delivers the days it missed at once, and the
landing sensor starts a run for each (up to `max_concurrent_runs` at a time).
Their steps take turns on the one-writer `warehouse` pool, so overlapping
runs cannot be faster than the same days one after another; what they cost
beyond that is waiting: for the slot to be handed over, and the processes
that wait. `keel bench-overlap` measures both ways on the same landed days.

Set-up (not measured): a fresh home with the demo's labelled history and
first model, the next `days` demo days landed, copied twice. Then, timed: one
`keel run --date D1 --date D2 … --executor multiprocess` (one after another,
each its own run) in one copy, and one such `keel run` per day, all started
at once, in the other (what the daemon's run workers do).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from keel.demo_calendar import DemoCalendar
from keel.home import KeelHome

KEEL = str(Path(sys.executable).with_name("keel"))


def _keel(home: KeelHome, *args: str) -> subprocess.Popen:
    env = {**os.environ, "KEEL_HOME": str(home.root), "DAGSTER_HOME": str(home.dagster_home)}
    env.pop("KEEL_WAREHOUSE", None)
    return subprocess.Popen([KEEL, *args, "--executor", "multiprocess"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _copy(home: KeelHome, destination: Path) -> KeelHome:
    shutil.copytree(home.root, destination)
    copied = KeelHome(destination)
    copied.ensure()  # the copy's instance keeps its storage in its own folder
    return copied


def _timed(processes: list[subprocess.Popen], started: float) -> tuple[float, list[str]]:
    failures = []
    for process in processes:
        _, stderr = process.communicate()
        if process.returncode != 0:
            failures.append(stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {process.returncode}")
    return round(time.perf_counter() - started, 2), failures


def decisions_digest(home: KeelHome) -> tuple[int, str]:
    """The home's decisions, every column, in application order: how many, and their sha256."""
    import duckdb

    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        rows = con.execute("select * from decisioning.decisions order by application_id").fetchall()
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def run_overlap_benchmark(days: int, workdir: Path, progress: Callable[[str], None] = lambda _msg: None) -> dict:
    """The same `days` demo days run one after another and all at once; wall times and their ratio."""
    from keel.bench.daily_path import prepare_home
    from keel.demo_landing import land_day

    home = KeelHome(workdir / "home")
    progress("setting up: history and first model (not measured)")
    prepare_home(home, progress)
    live = DemoCalendar().live_dates(days)
    for day in live:
        land_day(home, day)
    dates = [day.isoformat() for day in live]
    one_by_one, together = _copy(home, workdir / "one_after_another"), _copy(home, workdir / "together")

    progress(f"{days} days one after another")
    started = time.perf_counter()
    sequential_s, sequential_failures = _timed([_keel(one_by_one, "run", *(arg for day in dates for arg in ("--date", day)))], started)
    progress(f"{days} days at once")
    started = time.perf_counter()
    together_s, together_failures = _timed([_keel(together, "run", "--date", day) for day in dates], started)
    (decisions, one_by_one_digest), (_, together_digest) = decisions_digest(one_by_one), decisions_digest(together)
    return {
        "days": dates,
        "one_after_another_s": sequential_s,
        "together_s": together_s,
        "ratio": round(together_s / sequential_s, 2),
        "decisions": decisions,
        # Runs taking turns on the warehouse decide what runs one after another decide, byte for byte.
        "same_decisions": one_by_one_digest == together_digest,
        "failures": sequential_failures + together_failures,
    }
