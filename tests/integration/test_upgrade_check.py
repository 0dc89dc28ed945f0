"""`make upgrade-check FROM=...` end to end: an earlier keel's home (here this commit's, the one keel every clone has) used by this checkout."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.integration.helpers import REPO_ROOT

pytestmark = pytest.mark.integration


def _scratch_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("keel-upgrade-check-*"))


def test_the_upgrade_check_makes_a_home_with_the_earlier_code_and_works_on_it_with_this_one():
    scratch_before = _scratch_folders()
    done = subprocess.run(
        [sys.executable, "-m", "keel.upgrade_check", "HEAD", "--json"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr[-3000:]}"
    result = json.loads(done.stdout)
    assert result["ok"] and result["from"] == "HEAD"
    assert result["dependencies_differ"] is False and result["scratch"] is None
    assert _scratch_folders() == scratch_before, "without --keep the earlier code and its home are removed"
    found = {check["name"].split(" A0")[0]: check["found"] for check in result["checks"]}
    assert list(found) == [
        "HEAD: keel demo --days 3",
        "HEAD: a reviewer declines",
        "keel run --date 2026-01-04",
        "keel explain",
        "keel audit verify",
        "keel replay 2026-01-02",
        "keel model list",
    ]
    # The same code on both sides: the day decided "before the upgrade" replays byte for byte, not merely refused.
    assert found["keel replay 2026-01-02"] == "MATCH: 100 decisions byte for byte"
    assert found["keel explain"] == "final decision approve, amends 1 earlier decision(s)"


def test_a_name_that_is_not_a_commit_is_refused_before_git_runs():
    done = subprocess.run([sys.executable, "-m", "keel.upgrade_check", "--", "-x;y"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert "'-x;y' is not a commit, tag or branch name" in done.stderr


def test_a_commit_this_repository_does_not_have_is_refused_by_name():
    done = subprocess.run([sys.executable, "-m", "keel.upgrade_check", "no-such-release"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert "no-such-release is not a commit of this repository" in done.stderr
    assert "fatal" not in done.stderr, "git's own error stays out of the message"
