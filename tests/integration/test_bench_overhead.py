"""`keel bench-overhead`: the definitions load and every sensor's and schedule's ticks, measured on a real instance."""

import json
import subprocess

import pytest

from definitions import defs
from keel.executables import venv_tool
from tests.integration.helpers import copy_home

pytestmark = pytest.mark.integration


def test_bench_overhead_reports_loads_and_each_sensors_ticks_none_importing_pandas(demo_template, tmp_path):
    home = copy_home(demo_template[0], tmp_path / "home")
    listing = sorted((home / "landing" / "applications").iterdir())
    done = subprocess.run(
        [venv_tool("keel"), "bench-overhead", "--loads", "2", "--files", "12", "--home", str(home), "--json"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert len(result["definitions_load_s"]) == 2 and all(seconds > 0 for seconds in result["definitions_load_s"])
    assert result["definitions_load_max_s"] == max(result["definitions_load_s"])
    repository = defs.get_repository_def()
    assert set(result["sensor_ticks"]) == {sensor.name for sensor in repository.sensor_defs} | {schedule.name for schedule in repository.schedule_defs}
    ticks = result["sensor_ticks"]
    assert all(tick["first_tick_s"] > 0 and tick["next_tick_s"] > 0 for tick in ticks.values()), ticks
    assert result["sensor_tick_max_s"] == max(max(tick["first_tick_s"], tick["next_tick_s"]) for tick in ticks.values())
    # A code server ticks the sensors: none of them waits for pandas; only the SLA sensor, reading the warehouse, for DuckDB.
    assert {name: tick["libraries_imported"] for name, tick in ticks.items() if tick["libraries_imported"]} == {"review_sla_sensor": ["duckdb"]}
    assert ticks["landing_sensor"]["kind"] == "sensor" and ticks["daily_scoring"]["kind"] == "schedule"
    # Six days of applications and outcomes after the demo's: a run a day on the first tick (the daily job takes the
    # day's outcomes with its applications), none when nothing changed; the demo's own files start nothing.
    assert result["landing_files"] == 12 and result["landing_files_before_first_day"] == 0
    assert result["landing_first_tick_run_requests"] == ticks["landing_sensor"]["first_tick_run_requests"] == 6
    assert result["landing_next_tick_run_requests"] == 0
    assert result["sensor_home"] == f"a copy of {home}"
    assert sorted((home / "landing" / "applications").iterdir()) == listing, "the home given is copied, not landed in"
    # The ticks' log lines stay with the measurement, not on the terminal (a line per outcomes file).
    assert "goes in with the run of" not in done.stderr and "dagster.yaml" not in done.stderr, done.stderr
