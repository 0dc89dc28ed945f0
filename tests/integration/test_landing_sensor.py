"""The landing sensor on a real instance: which files start a run, which are skipped and which are rejected."""

import datetime as dt
import json
import os
import time

import dagster as dg
import pytest

from assets.constants import DAILY_PARTITIONS
import sensors.landing
from definitions import defs
from keel.home import KeelHome
from keel.landing_watch import file_sha256
from sensors.landing import landing_sensor, runs_that_loaded
from tests.integration.helpers import copy_home, instance_of, keel

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def home(demo_copy):
    return demo_copy[0]


@pytest.fixture
def instance(home, monkeypatch):
    return instance_of(home, monkeypatch)


@pytest.fixture
def clock_a_day_ahead_of_utc():
    """The host's local time zone 14 hours ahead of UTC (Kiribati's), restored afterwards."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Etc/GMT-14"
    time.tzset()
    yield
    if saved is None:
        os.environ.pop("TZ")
    else:
        os.environ["TZ"] = saved
    time.tzset()


def _landed_a_minute_ago(home: KeelHome) -> None:
    for source in ("applications", "outcomes"):
        for path in home.landing_dir(source).iterdir():
            os.utime(path, (time.time() - 60, time.time() - 60))


def _tick(instance: dg.DagsterInstance) -> dg.SensorResult:
    return landing_sensor(dg.build_sensor_context(instance=instance, cursor=None))


def test_days_decided_from_their_files_start_nothing_and_a_new_day_starts_one_run(instance, home, demo_copy):
    days = demo_copy[1]["days"]
    _landed_a_minute_ago(KeelHome(home))  # the demo's last day landed moments ago: settled, so this tick judges it too
    first = _tick(instance)
    assert first.run_requests == [], "every landed file was already taken in by the demo"
    # What the UI's tick history says: the files were loaded, not ignored.
    landed = sum(1 for source in ("applications", "outcomes") for path in KeelHome(home).landing_dir(source).iterdir() if not path.name.startswith("."))
    assert first.skip_reason.skip_message.endswith(f" and {landed - 3} more already loaded by an earlier run"), first.skip_reason.skip_message
    new_day = (dt.date.fromisoformat(days[-1]["date"]) + dt.timedelta(days=1)).isoformat()
    keel(home, "land", "--date", new_day)
    # The day's outcomes arrive with its applications (the sensor only reads the name and the bytes' hash here).
    (KeelHome(home).landing_dir("outcomes") / f"outcomes_{new_day}.csv").write_text("application_id,outcome_date,repayment_status\n")
    settling = _tick(instance)
    assert settling.run_requests == [], "files written a moment ago may still be being written"
    assert settling.skip_reason.skip_message.startswith(f"waiting for applications/applications_{new_day}.csv, outcomes/outcomes_{new_day}.csv to settle")
    _landed_a_minute_ago(KeelHome(home))
    # The daily job takes the day's outcomes too: one run, not a second one ingesting them.
    (request,) = _tick(instance).run_requests
    assert request.job_name == "daily_decisioning" and request.partition_key == new_day
    assert request.tags["keel/source_file"] == f"applications_{new_day}.csv"


def test_each_loaded_days_latest_load_names_its_landed_file_read_in_one_query_or_a_record_at_a_time(instance, home, monkeypatch):
    """The landing sensor's lookup of what loaded each day: one query for all the days, paged past RECORDS_PER_QUERY."""
    days = sorted(instance.get_materialized_partitions(dg.AssetKey("raw_applications")))
    latest = runs_that_loaded(instance, "applications", days)
    landing = KeelHome(home).landing_dir("applications")
    assert len(days) >= 10 and sorted(latest) == days
    assert all(file_sha256(landing / f"applications_{day}.csv") in hashes for day, (_run, hashes) in latest.items())
    monkeypatch.setattr(sensors.landing, "RECORDS_PER_QUERY", 1)
    assert runs_that_loaded(instance, "applications", days) == latest


def test_a_file_dated_after_dagsters_last_day_is_rejected_whatever_the_hosts_time_zone(instance, home, clock_a_day_ahead_of_utc):
    """A host whose local date was ahead of UTC accepted tomorrow's file, and every tick then failed on its partition.

    Dagster's days are UTC days; 14 hours ahead, the local date is UTC's next day from 10:00 UTC on.
    """
    tomorrow = dt.date.fromisoformat(DAILY_PARTITIONS.get_last_partition_key()) + dt.timedelta(days=1)
    name = f"applications_{tomorrow.isoformat()}.csv"
    landing = KeelHome(home)
    (landing.landing_dir("applications") / name).write_text("application_id\nA1\n")
    result = _tick(instance)
    assert all(r.partition_key != tomorrow.isoformat() for r in result.run_requests)
    reason = (landing.landing_rejected / f"{name}.reason.txt").read_text()
    assert f"date {tomorrow} is in the future" in reason
    assert not (landing.landing_dir("applications") / name).exists() and (landing.landing_rejected / name).exists()


def test_a_file_dated_before_dagsters_first_day_is_rejected_and_the_tick_requests_the_other_days(demo_template, tmp_path, monkeypatch):
    """A run requested for a day without a partition fails the daemon's whole tick, and every tick after it."""
    home = copy_home(demo_template[0], tmp_path / "home")
    instance = instance_of(home, monkeypatch)
    first = dt.date.fromisoformat(DAILY_PARTITIONS.get_first_partition_key())
    today = DAILY_PARTITIONS.get_last_partition_key()
    landing = KeelHome(home)
    too_old = f"applications_{first - dt.timedelta(days=1)}.csv"
    (landing.landing_dir("applications") / too_old).write_text("application_id\nA1\n")
    (landing.landing_dir("applications") / f"applications_{today}.csv").write_text("application_id\nA2\n")
    _landed_a_minute_ago(landing)
    context = dg.build_sensor_context(instance=instance, cursor=None, repository_def=defs.get_repository_def(), sensor_name="landing_sensor")
    result = landing_sensor.evaluate_tick(context)  # as the daemon does: each request's partition is validated
    assert [request.partition_key for request in result.run_requests] == [today]
    reason = (landing.landing_rejected / f"{too_old}.reason.txt").read_text()
    assert f"is before the first day keel decides ({first})" in reason
    assert not (landing.landing_dir("applications") / too_old).exists() and (landing.landing_rejected / too_old).exists()


def test_a_misnamed_file_is_rejected_and_the_outage_and_keel_run_say_where_it_went(demo_template, tmp_path, monkeypatch):
    """The source renamed its file: the freshness check cried outage and `keel run` said nothing had landed."""
    home = copy_home(demo_template[0], tmp_path / "home")
    day = (dt.date.fromisoformat(demo_template[1]["days"][-1]["date"]) + dt.timedelta(days=1)).isoformat()
    misnamed = f"Applications_{day}.csv"
    (KeelHome(home).landing_dir("applications") / misnamed).write_text("application_id\nA1\n")
    _tick(instance_of(home, monkeypatch))
    told = f"the landing sensor rejected a file for the day, now in {KeelHome(home).landing_rejected}: '{misnamed}': not a landing file name"

    refused = keel(home, "run", "--date", day, check=False)
    assert refused.returncode == 1 and told in refused.stderr

    freshness = keel(home, "freshness", "--json", check=False)
    (check,) = json.loads(freshness.stdout)["checks"]
    assert freshness.returncode == 1 and not check["passed"]
    assert f"applications for {day} was due" in check["message"] and told in check["message"]
