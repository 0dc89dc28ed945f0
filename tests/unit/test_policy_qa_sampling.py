"""QA sampling: a deterministic, process-independent draw from (application id, salt)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np

from keel.policy import qa_sampled, qa_uniform

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_uniform_value_is_the_documented_sha256_construction():
    digest = hashlib.sha256(b"salt\x1fA000001").digest()
    expected = (int.from_bytes(digest[:8], "big") >> 11) / 2**53
    assert qa_uniform(["A000001"], "salt")[0] == expected


def test_same_value_in_a_fresh_process():
    code = "from keel.policy import qa_uniform; print(repr(float(qa_uniform(['A000042'], 'credit-qa')[0])))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": "123", "PYTHONPATH": str(REPO_ROOT)})
    assert float(other.stdout) == float(qa_uniform(["A000042"], "credit-qa")[0])


def test_share_matches_the_rate_on_many_ids():
    ids = [f"A{i:07d}" for i in range(100_000)]
    values = qa_uniform(ids, "credit-qa")
    assert values.min() >= 0.0 and values.max() < 1.0
    for rate in (0.01, 0.05, 0.25):
        assert abs(qa_sampled(ids, "credit-qa", rate).mean() - rate) < 4 * np.sqrt(rate * (1 - rate) / len(ids))
    assert not qa_sampled(ids, "credit-qa", 0.0).any()
