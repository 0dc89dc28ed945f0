"""`keel bench-overlap`: the same landed days run one after another and all at once, on real instances."""

import json
import subprocess

from keel.executables import venv_tool


def test_bench_overlap_runs_the_days_both_ways_and_they_decide_the_same():
    done = subprocess.run([venv_tool("keel"), "bench-overlap", "--days", "2", "--json"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["days"] == ["2026-01-01", "2026-01-02"] and result["failures"] == []
    assert result["decisions"] == 200 and result["same_decisions"] is True
    assert result["one_after_another_s"] > 0 and result["together_s"] > 0
    assert result["ratio"] == round(result["together_s"] / result["one_after_another_s"], 2)
