"""docs/EXTENDING.md's worked example, followed to the letter on a copy of the code, runs a demo day.

Every file the page shows is written from the page itself, the two lists it
names are edited as it says, and the copy then decides a day through the real
daily job: the new asset's table, metadata and check are there.
"""

import json
import re
import subprocess
import sys

import dagster as dg
import duckdb
import pytest

from tests.integration.helpers import REPO_ROOT, copy_code, keel, keel_json

pytestmark = pytest.mark.integration

DAY = "2026-01-04"


def _files_shown(page: str) -> dict[str, str]:
    """Each fenced Python block whose first line names a file: {"path" or "path (append)": text}."""
    blocks = re.findall(r"```python\n# (\S+(?: \(append\))?)\n(.*?)```", page, flags=re.DOTALL)
    return {path: text for path, text in blocks}


def _edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"docs/EXTENDING.md says to edit {path.name}, which no longer has {old!r}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture(scope="module")
def extended_code(tmp_path_factory):
    code = copy_code(tmp_path_factory.mktemp("extended_code"))
    files = _files_shown((REPO_ROOT / "docs" / "EXTENDING.md").read_text())
    assert set(files) == {"keel/routes_by_term.py", "tests/unit/test_routes_by_term.py", "assets/constants.py (append)", "assets/reporting.py"}
    for path, text in files.items():
        if path.endswith(" (append)"):
            target = code / path.removesuffix(" (append)")
            target.write_text(target.read_text() + "\n" + text)
        else:
            (code / path).parent.mkdir(parents=True, exist_ok=True)
            (code / path).write_text(text)
    # Step 3 of the page: the two lists.
    _edit(code / "assets" / "__init__.py", "from assets import audit,", "from assets import reporting, audit,")
    _edit(code / "assets" / "__init__.py", "monitoring, audit]", "monitoring, audit, reporting]")
    _edit(code / "keel" / "pipeline.py", '"segment_outcomes")', '"segment_outcomes", "routes_by_term")')
    _edit(code / "keel" / "forkserver.py", '    "keel.models.training_set",\n', '    "keel.models.training_set",\n    "keel.routes_by_term",\n')
    return code


def test_the_extended_definitions_still_load_without_pandas_and_preload_the_new_module(extended_code):
    probe = (
        "import sys, definitions; definitions.defs.get_repository_def()\n"
        "from keel.forkserver import STEP_MODULES\n"
        "print('pandas' in sys.modules, 'duckdb' in sys.modules, 'keel.routes_by_term' in STEP_MODULES)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=extended_code, env={"PYTHONPATH": str(extended_code), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "False", "True"]


def test_the_pages_unit_test_passes(extended_code):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/test_routes_by_term.py"],
        cwd=extended_code, env={"PYTHONPATH": str(extended_code), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_new_asset_carries_what_every_keel_asset_carries(extended_code):
    script = (
        "import json, definitions, dagster as dg\n"
        "node = definitions.defs.resolve_asset_graph().get(dg.AssetKey('routes_by_term'))\n"
        "job = definitions.defs.resolve_job_def('daily_decisioning')\n"
        "print(json.dumps({'owners': list(node.owners), 'group': node.group_name, 'kinds': sorted(node.kinds),\n"
        "  'code_version': node.code_version, 'pool': node.pools and sorted(node.pools),\n"
        "  'in_daily_job': dg.AssetKey('routes_by_term') in job.asset_layer.asset_graph.get_all_asset_keys()}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=extended_code, env={"PYTHONPATH": str(extended_code), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    node = json.loads(done.stdout.strip().splitlines()[-1])
    assert node["owners"] and node["group"] == "monitoring" and node["kinds"] and node["code_version"] == "1"
    assert node["pool"] == ["warehouse"] and node["in_daily_job"]


def test_a_demo_day_through_the_extended_code_builds_the_table_and_checks_it(demo_copy, extended_code):
    home, _ = demo_copy
    env = {"PYTHONPATH": str(extended_code)}
    keel(home, "land", "--date", DAY)  # the demo's data: landing is not what the page changes
    summary = json.loads(keel(home, "run", "--date", DAY, "--json", env=env).stdout)
    assert summary["success"] and summary["decided_auto"] + summary["sent_to_review"] == 100, summary

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select term_band, applications, approve + decline + review from reporting.routes_by_term where application_date = ? order by all", [DAY]
        ).fetchall()
    assert len(rows) == 3 and sum(applications for _, applications, _ in rows) == 100
    assert all(applications == routed for _, applications, routed in rows)

    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        materialization = instance.get_latest_materialization_event(dg.AssetKey("routes_by_term")).asset_materialization
        assert materialization.partition == DAY and materialization.metadata["applications"].value == 100
        key = dg.AssetCheckKey(dg.AssetKey("routes_by_term"), "every_decision_counted")
        evaluation = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key].event.dagster_event.event_specific_data
        assert evaluation.passed and evaluation.description == f"{DAY}: 100 of 100 decisions counted in a loan term band"
    finally:
        instance.dispose()
    # The day the new asset was added to still replays byte for byte: decisions did not change.
    assert keel_json(home, "replay", DAY)["match"]
