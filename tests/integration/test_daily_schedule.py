"""The 06:00 schedule decides yesterday's file only when no run has taken it in or is about to.

The landing sensor starts a day's run when the file lands; before, the
schedule ran every such day a second time the next morning.
"""

import datetime as dt

import dagster as dg
import pytest

from keel.home import KeelHome
from keel.landing_watch import file_sha256
from keel.orchestrate import load_definitions
from keel.pipeline import DAILY_JOB
from sensors.schedules import daily_scoring
from tests.integration.helpers import instance_of, keel

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def home(demo_copy):
    return demo_copy[0]


@pytest.fixture
def in_home(home, monkeypatch):
    return instance_of(home, monkeypatch)


def _evaluate(instance: dg.DagsterInstance, day: str):
    morning = dt.datetime.fromisoformat(day) + dt.timedelta(days=1, hours=6)
    return daily_scoring(dg.build_schedule_context(instance=instance, scheduled_execution_time=morning.replace(tzinfo=dt.timezone.utc)))


def test_a_day_its_run_decided_from_the_same_file_is_skipped_naming_the_run(in_home, demo_copy):
    day = demo_copy[1]["days"][0]
    skipped = _evaluate(in_home, day["date"])
    assert isinstance(skipped, dg.SkipReason)
    assert f"applications_{day['date']}.csv" in skipped.skip_message
    assert f"taken in by run {day['run_ids'][-1]} (SUCCESS)" in skipped.skip_message


def test_a_landed_day_no_run_took_in_is_requested_unless_a_run_of_it_is_under_way(in_home, home, demo_copy):
    last = dt.date.fromisoformat(demo_copy[1]["days"][-1]["date"])
    day = (last + dt.timedelta(days=1)).isoformat()
    assert isinstance(_evaluate(in_home, day), dg.SkipReason), "nothing landed yet"
    keel(home, "land", "--date", day)
    requested = _evaluate(in_home, day)
    assert isinstance(requested, dg.RunRequest) and requested.partition_key == day
    landed = KeelHome(home).landing_dir("applications") / f"applications_{day}.csv"
    assert requested.tags == {"keel/source_file": landed.name, "keel/source_sha256": file_sha256(landed)}

    daily_job = load_definitions().resolve_job_def(DAILY_JOB)
    queued = in_home.create_run_for_job(job_def=daily_job, tags={"dagster/partition": day}, status=dg.DagsterRunStatus.NOT_STARTED)
    skipped = _evaluate(in_home, day)
    assert isinstance(skipped, dg.SkipReason) and f"run {queued.run_id} of {day} is queued or running" in skipped.skip_message
    in_home.delete_run(queued.run_id)
    assert isinstance(_evaluate(in_home, day), dg.RunRequest)


def test_a_decided_days_file_replaced_by_another_is_requested(in_home, home, demo_copy):
    day = demo_copy[1]["days"][1]["date"]
    landed = KeelHome(home).landing_dir("applications") / f"applications_{day}.csv"
    landed.write_bytes(landed.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[0] + b"\n")  # the resend lost its last row
    assert isinstance(_evaluate(in_home, day), dg.RunRequest)

