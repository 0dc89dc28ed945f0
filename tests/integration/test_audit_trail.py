"""The audit trail read back: `keel explain` tells one application's story; `keel audit export` hands over the evidence."""

import json
import re
from pathlib import Path

import duckdb
import pytest

from tests.integration.helpers import keel, keel_json

pytestmark = pytest.mark.integration

REQUIRED = ("application_id", "source_file", "source_sha256", "row_number", "model_version", "policy_version", "score", "reasons", "route", "final_decision", "run_ids")


def _cases(home):
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(
            "select route, min(application_id) from decisioning.decisions group by route order by route"
        ).fetchall()


def test_explain_an_automatic_and_a_review_case(demo_template):
    home, summary = demo_template
    cases = dict(_cases(home))
    for route in ("approve", "review"):
        record = keel_json(home, "explain", cases[route])
        assert all(key in record for key in REQUIRED), [k for k in REQUIRED if k not in record]
        assert record["route"] == route and record["model_version"] == summary["model_version"]
        assert record["source_file"].startswith("applications_2026-01-0") and record["row_number"] >= 1
        assert len(record["source_sha256"]) == 64 and 0 <= record["score"] <= 1
        assert record["reasons"] and all(r["text"] and r["code"] for r in record["reasons"])
        assert record["final_decision"] == ("approve" if route == "approve" else "pending")
        assert record["run_ids"]["decisions"] and record["run_links"]["decisions"].startswith("http://127.0.0.1:3000/runs/")
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
            score = con.execute("select p_bad from decisioning.decisions where application_id = ?", [cases[route]]).fetchone()[0]
        assert record["score"] == pytest.approx(score)
    text = keel(home, "explain", cases["review"]).stdout
    assert "No reviewer has decided yet" in text and "Final decision: pending" in text


def test_explain_refuses_unknown_and_malformed_ids(demo_template):
    home, _ = demo_template
    unknown = keel(home, "explain", "A999999999", check=False)
    assert unknown.returncode != 0 and "no decision is recorded for A999999999" in unknown.stderr + unknown.stdout
    malformed = keel(home, "explain", "../../etc/passwd", check=False)
    assert malformed.returncode != 0 and "does not look like" in malformed.stderr + malformed.stdout


def test_evidence_bundle_verifies_and_pseudonymizes_personal_data(demo_template, tmp_path):
    import pandas as pd

    from keel.audit.export import verify_bundle

    home, summary = demo_template
    key = {"KEEL_PSEUDONYM_KEY": "test-key-not-secret"}
    out = tmp_path / "bundle"
    result = json_of(keel(home, "audit", "export", "--from", "2026-01-01", "--to", "2026-01-02", "--out", str(out), "--json", env=key))
    assert result["days"] == ["2026-01-01", "2026-01-02"] and result["pseudonymized"]
    intact = json_of(keel(home, "audit", "verify-bundle", str(out), "--json"))
    assert intact["ok"] and intact["problems"] == [] and intact["files_checked"] == 12
    ledger = pd.read_parquet(out / "decision_ledger.parquet")
    assert len(ledger) == 200 and set(ledger["ledger_day"]) == {"2026-01-01", "2026-01-02"}
    applications = pd.read_parquet(out / "applications.parquet")
    assert applications["income"].dropna().str.startswith("p_").all() and applications["job"].dropna().str.startswith("p_").all()
    assert not applications["amount"].astype(str).str.startswith("p_").any(), "loan terms are not personal data"
    checks = json.loads((out / "check_results.json").read_text())
    assert {"raw_applications:rows_reconcile", "scores:model_available"} <= {c["check"] for c in checks}
    assert json.loads((out / "model_registry.json").read_text())["alias_moves"][0]["to_version"] == summary["first_model_version"]
    (out / "versions.json").write_text("{}")
    assert verify_bundle(out) == ["versions.json: sha256 differs from the manifest"]
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["../../etc/passwd"] = {"sha256": "0" * 64, "bytes": 1}
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert "../../etc/passwd: not a path inside the bundle" in verify_bundle(out)
    # An edited ledger fails on its chain too, which rewriting the manifest would not mend.
    ledger.loc[ledger.index[0], "route"] = "review" if ledger["route"].iloc[0] != "review" else "approve"
    ledger.to_parquet(out / "decision_ledger.parquet", index=False)
    (out / "notes.txt").write_text("added later")
    tampered = keel(home, "audit", "verify-bundle", str(out), check=False)
    assert tampered.returncode == 1 and "does NOT verify" in tampered.stdout
    assert "notes.txt: not in the manifest" in tampered.stdout
    assert re.search(r"ledger batch \d+ \(2026-01-0[12]\): rows hash", tampered.stdout)

    plain = tmp_path / "plain"
    keel(home, "audit", "export", "--from", "2026-01-01", "--to", "2026-01-01", "--out", str(plain), "--no-pseudonymize", env=key)
    assert not pd.read_parquet(plain / "applications.parquet")["job"].dropna().str.startswith("p_").any()


def json_of(completed):
    return json.loads(completed.stdout)


def test_dbt_models_carry_column_lineage(demo_template):
    import dagster as dg

    home, _ = demo_template
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    event = instance.get_latest_materialization_event(dg.AssetKey("application_features"))
    lineage = event.asset_materialization.metadata["dagster/column_lineage"].value
    deps = {column: {(dep.asset_key.to_user_string(), dep.column_name) for dep in found} for column, found in lineage.deps_by_column.items()}
    assert deps["age_band"] == {("stg_applications", "age")}
    assert deps["loan_to_price"] == {("stg_applications", "amount"), ("stg_applications", "price")}
    schema = event.asset_materialization.metadata["dagster/column_schema"].value
    assert "installment_to_income" in {column.name for column in schema.columns}


def test_the_feature_expectations_saw_every_accepted_row_of_the_last_day(demo_template):
    import dagster as dg

    home, summary = demo_template
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    key = dg.AssetCheckKey(dg.AssetKey("application_features"), "feature_expectations")
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
    evaluation = record.event.dagster_event.event_specific_data
    assert evaluation.passed, evaluation.description
    # Read with only the suite's columns; still every row of the day's mart.
    assert evaluation.metadata["rows_validated"].value == summary["days"][-1]["accepted"]
    assert evaluation.metadata["expectations_evaluated"].value == 20


def test_each_days_feature_expectations_link_that_days_data_docs_page(demo_template):
    """An audit of a past day opens that day's validation: later days' runs leave its page where it was."""
    import dagster as dg

    home, summary = demo_template
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    key = dg.AssetCheckKey(dg.AssetKey("application_features"), "feature_expectations")
    pages = {}
    for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=50):
        metadata = record.event.dagster_event.event_specific_data.metadata
        page = Path(metadata["data_docs_run"].value)
        pages[page.parts[-3]] = page  # validations/<suite>/<run name>/<run time>/<batch>.html
    days = [day["date"] for day in summary["days"]]
    assert set(days) <= set(pages), sorted(pages)
    for day in days:
        assert pages[day].is_file() and pages[day].is_relative_to(home / "reports" / "data_docs"), pages[day]
    index = (home / "reports" / "data_docs" / "index.html").read_text()
    assert all(pages[day].relative_to(home / "reports" / "data_docs").as_posix() in index for day in days)


def test_every_check_of_a_days_run_is_recorded_once_with_its_result(demo_template):
    # What the check's history in the UI lists: a passed or failed row per run, no "Skipped" twin beside it.
    import dagster as dg
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus as Status

    home, summary = demo_template
    instance = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        run = instance.get_runs(filters=dg.RunsFilter(job_name="daily_decisioning", tags={"dagster/partition": summary["days"][-1]["date"]}))[0]
        planned = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED)
        keys = {dg.AssetCheckKey(e.dagster_event.event_specific_data.asset_key, e.dagster_event.event_specific_data.check_name) for e in planned}
        assert len(keys) >= 10, keys  # the contract's, the dbt tests', the expectations', the model's, the routes', monitoring's
        statuses = {
            key.to_user_string(): [r.status for r in instance.event_log_storage.get_asset_check_execution_history(key, limit=50) if r.run_id == run.run_id]
            for key in keys
        }
        assert {name: s for name, s in statuses.items() if len(s) != 1 or s[0] not in (Status.SUCCEEDED, Status.FAILED)} == {}

        # Every check, keel's own and dbt's tests, says which day or file it judged, passed or not.
        day = summary["days"][-1]["date"]
        evaluations = [e.dagster_event.event_specific_data for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)]
        described = {f"{e.asset_key.to_user_string()}:{e.check_name}": e.description for e in evaluations}
        assert len(described) == len(keys), sorted(set(keys) - set(described))
        assert {check: text for check, text in described.items() if day not in (text or "")} == {}
        assert described["application_features:unique_application_features_application_id"] == f"{day}: dbt test pass"
    finally:
        instance.dispose()
