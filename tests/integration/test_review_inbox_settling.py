"""A reviewers' tool appending to an inbox file in place: the sensor and its run wait until the file is still.

Before, the review sensor started a run as soon as the file grew, the run read
the lines written so far and moved the file to review/processed, and the lines
the tool appended afterwards followed it there unread.
"""

import json
import os
import subprocess
import sys
import time

import dagster as dg
import pytest

from keel.home import REPO_ROOT, KeelHome
from sensors.review import review_sensor
from tests.integration.helpers import instance_of, keel, keel_json

pytestmark = pytest.mark.integration

# The review job as the review sensor's runs start it (not tagged as the CLI's `keel review ingest`).
SENSOR_RUN = (
    "import sys\n"
    "from keel.home import KeelHome\n"
    "from keel.orchestrate import execute\n"
    "from keel.pipeline import REVIEW_JOB\n"
    "outcome = execute(REVIEW_JOB, KeelHome.from_env(), tags={'keel/trigger': 'review_sensor'})\n"
    "sys.exit(0 if outcome.success else 1)\n"
)


@pytest.fixture(scope="module")
def home(demo_copy):
    return demo_copy[0]


def _pending(home, count):
    return [case["application_id"] for case in keel_json(home, "review", "list")["cases"][:count]]


def _line(application_id):
    return json.dumps({"application_id": application_id, "decision": "decline", "reviewer": "ana", "reason": "checked the file", "reviewed_at": "2026-01-05T09:00:00+00:00"}) + "\n"


def test_a_file_being_appended_to_waits_and_then_every_line_is_taken(home, monkeypatch):
    instance = instance_of(home, monkeypatch)
    first, second = _pending(home, 2)
    inbox_file = KeelHome(home).review_inbox / "tool-batch.jsonl"
    cursor = review_sensor(dg.build_sensor_context(instance=instance, cursor=None)).cursor
    inbox_file.write_text(_line(first))

    waiting = review_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
    assert not waiting.run_requests, "the file was written a moment ago"
    run = subprocess.run([sys.executable, "-c", SENSOR_RUN], cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert inbox_file.exists(), "a run started meanwhile (by new decisions) leaves it in the inbox"

    with open(inbox_file, "a") as tool:
        tool.write(_line(second))
    os.utime(inbox_file, (time.time() - 60, time.time() - 60))
    (request,) = review_sensor(dg.build_sensor_context(instance=instance, cursor=cursor)).run_requests
    assert request.tags["keel/reason"] == "inbox files waiting"
    run = subprocess.run([sys.executable, "-c", SENSOR_RUN], cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert not inbox_file.exists()
    for application_id in (first, second):
        assert keel(home, "explain", application_id).stdout.count("Reviewer ana decided decline") == 1
