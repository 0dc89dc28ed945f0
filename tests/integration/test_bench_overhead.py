"""`keel bench-overhead`: the definitions load and the landing sensor's ticks, measured on a real instance."""

import json
import subprocess

from keel.executables import venv_tool


def test_bench_overhead_reports_loads_and_a_tick_that_requests_each_new_day_once():
    done = subprocess.run(
        [venv_tool("keel"), "bench-overhead", "--loads", "2", "--files", "12", "--json"], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert len(result["definitions_load_s"]) == 2 and all(seconds > 0 for seconds in result["definitions_load_s"])
    assert result["definitions_load_max_s"] == max(result["definitions_load_s"])
    assert result["landing_files"] == 12
    # Six days of applications and outcomes: a run a day on the first tick (the daily job takes the day's
    # outcomes with its applications), none when nothing changed.
    assert result["landing_first_tick_run_requests"] == 6
    assert result["landing_next_tick_run_requests"] == 0
    assert result["landing_first_tick_s"] > 0 and result["landing_next_tick_s"] > 0
    # The ticks' log lines stay with the measurement, not on the terminal (a line per outcomes file).
    assert "goes in with the run of" not in done.stderr and "dagster.yaml" not in done.stderr, done.stderr
