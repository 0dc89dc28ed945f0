"""The Dagster UI as a person uses it, in Debian's chromium driven by Playwright.

Starts `keel serve` (what `make run` serves: Dagster's webserver and daemon)
on a free 127.0.0.1 port against a KEEL_HOME with two demo days, checks that
it started without warnings, then: finds every asset group on the lineage
page, launches one day's partition of the daily job from the UI, waits for
the run to succeed (the server's terminal showing the run's own lines, not
its DEBUG events), and opens the decisions asset to find its check results
and its upstream lineage back to raw_applications. Screenshots of each step
are saved under test-output/<test name>/.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.integration.helpers import free_port, keel, keel_json, start_keel, start_keel_serve, wait_for_http

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
UI_DAY = "2026-01-03"
SERVER_LOG = "keel-serve.log"
SERVING = "Serving dagster-webserver"
ALERT_LINE = " - keel: "  # how a sensor's alert reads in its log (keel.alerts.alert_line)


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it with apt-get (package chromium)")
    home = tmp_path_factory.mktemp("ui_home")
    keel_json(home, "demo", "--days", "2")
    keel(home, "land", "--date", UI_DAY)
    port = free_port()
    log = open(home / SERVER_LOG, "w")
    server = start_keel_serve(home, port, log)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/server_info")
        yield {"base": f"http://127.0.0.1:{port}", "home": home}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()


def _wait_for_partition_run(home: Path, day: str, timeout: float = 420):
    """The run the UI launched for `day`, once it has finished."""
    instance = DagsterInstance.from_config(str(home / "dagster"))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = instance.get_runs(filters=RunsFilter(tags={"dagster/partition": day}))
        # The landing sensor may run the day too; the test follows the run a person launched.
        done = [r for r in runs if r.is_finished and "dagster/sensor_name" not in r.tags]
        if done:
            return done[0]
        time.sleep(2)
    raise AssertionError(f"no run for {day} finished within {timeout}s")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_the_server_starts_without_warnings(ui):
    """What a person sees in the terminal of `make run` until the UI is up: no warnings to puzzle over.

    Dagster had warned of the repository's dagster.yaml (keel's template, not
    the instance's), advised `dg dev` over `dagster dev`, and warned of the
    daily jobs' backfill policies with empty lists, at every start.
    """
    log = ui["home"] / SERVER_LOG
    deadline = time.monotonic() + 60
    while SERVING not in log.read_text() and time.monotonic() < deadline:
        time.sleep(1)
    startup = log.read_text().split(SERVING)[0]
    assert SERVING in log.read_text(), f"the webserver did not say it was serving:\n{startup[-3000:]}"
    # An alert a sensor sends at its first tick (the demo's review cases are past their SLA) is news for the
    # operator, logged as a warning on purpose; what this test guards against is Dagster's own noise.
    warnings = [line for line in startup.splitlines() if re.search(r"WARNING|Warning:", line) and ALERT_LINE not in line]
    assert not warnings, "the server warned as it started:\n" + "\n".join(warnings)


def test_a_person_materializes_a_day_and_audits_its_decisions(ui, browser, output_dir):
    from assets.constants import ASSET_GROUPS

    import definitions

    graph = definitions.defs.resolve_asset_graph()
    groups_in_use = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    expected_groups = [g for g in ASSET_GROUPS if g in groups_in_use]
    assert set(ASSET_GROUPS) == set(expected_groups), "every group of the process has assets"

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(60_000)

    # 1. The lineage page lists every asset group of the process.
    started = time.monotonic()
    page.goto(ui["base"] + "/asset-groups")
    for group in expected_groups:
        page.get_by_text(group, exact=True).first.wait_for()
    render_seconds = time.monotonic() - started
    page.screenshot(path=str(output_dir / "1-asset-groups.png"))
    (output_dir / "asset-graph-render-seconds.txt").write_text(f"{render_seconds:.2f}\n")

    # 2. Launch one day's partition of the daily job from its asset graph.
    page.goto(ui["base"] + "/locations/keel/jobs/daily_decisioning")
    page.get_by_role("button", name="Materialize all").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Partition selection").wait_for()
    # Older days than the last 90 are behind "Show all partitions"; the banner renders a moment later.
    show_all = dialog.get_by_text("Show all partitions")
    try:
        show_all.wait_for(timeout=15_000)
        show_all.click()
    except PlaywrightTimeoutError:
        pass
    box = dialog.locator("input[type=text]").first
    box.fill(UI_DAY)
    box.press("Enter")
    dialog.get_by_text("1 partition", exact=True).wait_for()
    page.screenshot(path=str(output_dir / "2-launch-dialog.png"))
    dialog.get_by_role("button", name=re.compile(r"^Launch")).click()

    # 3. Wait for the run of that day to succeed, then look at it in the UI.
    run = _wait_for_partition_run(ui["home"], UI_DAY)
    assert run.status == DagsterRunStatus.SUCCESS, f"run {run.run_id} ended {run.status}"
    page.goto(ui["base"] + f"/runs/{run.run_id}")
    page.get_by_text("Success", exact=True).first.wait_for()
    page.screenshot(path=str(output_dir / "3-run-succeeded.png"))
    # The server's terminal (`make run`'s) showed the run's own lines, not its ~190 DEBUG events (the page has them).
    run_lines = [line for line in (ui["home"] / SERVER_LOG).read_text().splitlines() if run.run_id in line]
    assert any(f"applications_{UI_DAY}.csv: " in line for line in run_lines), "\n".join(run_lines[-20:])
    assert not [line for line in run_lines if " - DEBUG - " in line]

    # 4. The decisions asset: its checks' results and its lineage back to raw_applications.
    page.goto(ui["base"] + "/assets/decisions?view=checks")
    page.get_by_text("every_application_routed").first.wait_for()
    page.get_by_text("Passed").first.wait_for()
    page.screenshot(path=str(output_dir / "4-decisions-checks.png"))
    # Follow the upstream lineage link by link, as an auditor would, back to the raw data.
    page.goto(ui["base"] + "/assets/decisions")
    for upstream in ("scores", "application_features", "stg_applications", "raw_applications"):
        page.locator(f"a[href*=\"/assets/{upstream}\"]").first.click()
        page.wait_for_url(f"**/assets/{upstream}**")
        page.get_by_text("Upstream assets").first.wait_for()
    page.screenshot(path=str(output_dir / "5-lineage-back-to-raw-applications.png"))


def test_a_reviewer_declines_a_case_on_the_review_page_and_the_daemon_takes_it_in(ui, browser, output_dir):
    """`keel review serve` beside the UI: a reviewer opens a case from the queue, fills its form and clicks.

    The decision is the inbox file `keel review decide` writes; the review
    sensor of the served daemon takes it in and the case stands decided.
    """
    home = ui["home"]
    port = free_port()
    with open(home / "review-page.log", "w") as log:
        server = start_keel(home, "review", "serve", "--port", str(port), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_http(f"http://127.0.0.1:{port}/", timeout=60)
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(f"http://127.0.0.1:{port}/")
            case_id = page.locator("article").first.get_attribute("id")
            page.screenshot(path=str(output_dir / "6-review-page.png"))
            # The case's own page: the story and the application as received, and the same form.
            page.locator(f"article#{case_id} a.id").click()
            page.wait_for_url(f"**/cases/{case_id}")
            assert page.locator("#story li").first.inner_text().startswith(f"{case_id} was received on")
            assert page.locator("#raw th", has_text="income").count() == 1
            page.screenshot(path=str(output_dir / "7-case-page.png"))
            case = page.locator(f"article#{case_id}")
            case.locator("input[name=reviewer]").fill("ana")
            case.locator("input[name=reason]").fill("declared income does not cover the instalment")
            case.get_by_role("button", name="Decline").click()
            page.wait_for_url("**/?done=*")
            page.locator("#done").wait_for()
            assert page.locator("#done").inner_text().startswith(f"{case_id}: decline written to the inbox")
            assert page.locator(f"article#{case_id} .waiting").inner_text().startswith("decline by ana waiting in the inbox")
            # The reviewer is remembered for the next case.
            assert page.locator("article input[name=reviewer]").first.input_value() == "ana"
            page.screenshot(path=str(output_dir / "8-review-page-decided.png"))
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)

    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        decided = [c for c in keel_json(home, "review", "list", "--all")["cases"] if c["application_id"] == case_id and c["decision"]]
        if decided:
            break
        time.sleep(5)
    assert decided, f"the review sensor did not take {case_id}'s decision in within 240 s"
    assert (decided[0]["decision"], decided[0]["reviewer"], decided[0]["reason"]) == ("decline", "ana", "declared income does not cover the instalment")
