"""`keel run` and `keel replay` at a terminal show what they are doing; their stdout stays the result.

The command runs with its stderr on a pseudo-terminal, as a person's would be,
and its stdout on a pipe, as a script reading the result would have it.
"""

import os
import pty
import re
import select
import subprocess

import pytest

from tests.integration.helpers import KEEL, REPO_ROOT, keel

pytestmark = pytest.mark.integration

DAILY_STEPS = {
    "raw_applications", "raw_outcomes", "dbt_transform", "application_features_feature_expectations", "scores",
    "decisions", "daily_monitoring", "review_queue", "decision_ledger",
}  # fmt: skip
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _run_at_a_terminal(home, *args: str) -> tuple[str, str, int]:
    """(stdout, what the terminal was shown on stderr, exit code)."""
    terminal, child_side = pty.openpty()
    env = {**os.environ, "KEEL_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), "COLUMNS": "120"}
    env.pop("KEEL_WAREHOUSE", None)
    process = subprocess.Popen([KEEL, *args], env=env, stdout=subprocess.PIPE, stderr=child_side, stdin=subprocess.DEVNULL)
    os.close(child_side)
    shown = bytearray()
    while True:
        ready, _, _ = select.select([terminal], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # the child closed its side
                break
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    stdout = process.stdout.read().decode()
    process.wait(timeout=600)
    os.close(terminal)
    return stdout, ESCAPES.sub("", shown.decode(errors="replace")), process.returncode


def _steps_shown(day: str, shown: str) -> list[str]:
    steps = []
    for step in re.findall(rf"{day}: ([a-z_]+)", shown):
        if not steps or steps[-1] != step:
            steps.append(step)
    return steps


@pytest.mark.parametrize("executor", ["in_process", "multiprocess"])
def test_a_days_run_shows_its_steps_on_the_terminal_and_prints_its_summary(demo_copy, executor):
    home, _ = demo_copy
    day = "2026-01-04" if executor == "in_process" else "2026-01-05"
    keel(home, "land", "--date", day)
    for path in (home / "landing").glob(f"*/*{day}*"):
        os.utime(path, (path.stat().st_mtime - 60,) * 2)  # delivered a minute ago, not still being written

    stdout, shown, code = _run_at_a_terminal(home, "run", "--date", day, "--executor", executor)

    assert code == 0, (stdout, shown)
    assert stdout.startswith(f"{day}: ok  received 100"), stdout
    assert "━" not in stdout and "\x1b" not in stdout, "the bar is drawn on stderr only"
    steps = [step for step in _steps_shown(day, shown) if step != "starting"]
    assert set(steps) <= DAILY_STEPS and "scores" in steps and len(steps) >= 4, shown[-2000:]
    # A step's own logs (the UI's stderr of the run) carry no bar.
    captured = [p for p in (home / "dagster" / "storage").rglob("*.err") if "━".encode() in p.read_bytes()]
    assert captured == []


def test_json_output_draws_no_bar(demo_copy):
    home, _ = demo_copy
    stdout, shown, code = _run_at_a_terminal(home, "run", "--date", "2026-01-03", "--json")
    assert code == 0 and stdout.lstrip().startswith("{")
    assert "━" not in shown


def test_a_replay_shows_its_phases_on_the_terminal(demo_copy):
    home, _ = demo_copy
    stdout, shown, code = _run_at_a_terminal(home, "replay", "2026-01-02")
    assert code == 0 and stdout.startswith("MATCH 2026-01-02: 100 decisions replayed"), (stdout, shown)
    assert "replay 2026-01-02: the day through the daily job in the scratch home" in shown, shown[-1500:]
    assert "\x1b" not in stdout


def test_a_policy_dry_run_shows_the_day_it_decides_again(demo_copy, tmp_path):
    home, _ = demo_copy
    candidate = tmp_path / "candidate.yaml"
    candidate.write_text((REPO_ROOT / "policies" / "credit_policy.yaml").read_text())
    stdout, shown, code = _run_at_a_terminal(home, "policy", "dry-run", str(candidate), "--days", "2")
    assert code == 0 and stdout.startswith("dry run"), (stdout, shown)
    assert re.search(r"deciding again under [0-9.]+: day [12] of 2, 2026-01-0\d", shown), shown[-1500:]
    assert "\x1b" not in stdout
