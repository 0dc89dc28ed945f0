"""`keel explain` tells one application's story from what was recorded, with its runs linked."""

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
