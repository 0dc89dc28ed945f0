"""`keel land`: the demo calendar's files for a day, or a faulty one on request (keel.demo_landing.land_day)."""

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from keel.demo_calendar import DemoCalendar
from keel.demo_landing import land_day
from keel.errors import KeelError
from keel.home import KeelHome

CALENDAR = DemoCalendar()


def _only_outcomes_day() -> dt.date:
    return CALENDAR.live_dates()[-1] + dt.timedelta(days=1)


def _landed(home_path) -> list:
    return [*home_path.rglob("applications_*"), *home_path.rglob("outcomes_*")]


def test_a_fault_lands_a_faulty_applications_file_beside_the_days_outcomes(tmp_path):
    home = KeelHome(tmp_path / "home")
    written = land_day(home, CALENDAR.live_dates()[0], fault="empty_file")
    assert [path.name for path in written][0] == "applications_2026-01-01.csv"
    assert written[0].read_bytes() == b""


def test_a_fault_on_a_day_without_applications_is_refused_before_anything_lands(tmp_path):
    home = KeelHome(tmp_path / "home")
    day = _only_outcomes_day()
    assert [path.parent.name for path in land_day(home, day)] == ["outcomes"]  # the day itself has outcomes only
    with pytest.raises(KeelError, match=f"no applications on {day} to write fault empty_file into"):
        land_day(KeelHome(tmp_path / "other"), day, fault="empty_file")
    assert not _landed(tmp_path / "other")


def test_a_fault_in_another_format_is_refused_before_anything_lands(tmp_path):
    with pytest.raises(KeelError, match="--format parquet cannot carry it"):
        land_day(KeelHome(tmp_path / "home"), CALENDAR.live_dates()[0], fmt="parquet", fault="empty_file")
    assert not _landed(tmp_path / "home")


def test_keel_land_does_not_import_dagster_whether_it_lands_or_refuses(tmp_path):
    """Landing a file starts no run: `keel land` pays for pandas and the demo data, not for Dagster
    (a median of 2.44 s a call when land_day lived beside the run code in keel.runs, 1.12 s since: five calls each, alternating)."""
    probe = (
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "from keel.cli.main import app\n"
        "landed = CliRunner().invoke(app, ['land', '--date', '2026-01-01', '--json'])\n"
        "refused = CliRunner().invoke(app, ['land', '--date', '2026-01-01', '--format', 'parquet', '--fault', 'empty_file'])\n"
        "print(json.dumps({'landed': [landed.exit_code, landed.stdout], 'refused': [refused.exit_code, refused.output],"
        " 'dagster': sorted(m for m in ('dagster', 'dagster_dbt', 'keel.orchestrate', 'keel.runs') if m in sys.modules)}))\n"
    )
    env = {**os.environ, "KEEL_HOME": str(tmp_path / "home"), "DAGSTER_HOME": str(tmp_path / "home" / "dagster")}
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    landed_code, landed_out = seen["landed"]
    assert landed_code == 0 and [os.path.basename(f) for f in json.loads(landed_out)["files"]] == ["applications_2026-01-01.csv"]
    refused_code, refused_out = seen["refused"]
    assert refused_code != 0 and "--format parquet cannot carry it" in refused_out and "Traceback" not in refused_out
    assert seen["dagster"] == []
