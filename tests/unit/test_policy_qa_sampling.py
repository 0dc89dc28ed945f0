"""QA sampling: a deterministic, process-independent draw from (application id, salt)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

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


def _hashlib_uniform(ids, salt):
    # The documented construction, one id at a time.
    return np.array([(int.from_bytes(hashlib.sha256(f"{salt}\x1f{i}".encode("utf-8")).digest()[:8], "big") >> 11) / 2**53 for i in ids])


def test_the_vectorized_draw_is_the_documented_construction_for_any_text():
    ids = [f"A9{i:08d}" for i in range(5_000)] + ["", "é-ß-日本", "a" * 300, "with space", "0", "A000001"]
    expected = _hashlib_uniform(ids, "credit-qa")
    assert np.array_equal(qa_uniform(ids, "credit-qa"), expected)
    # A day's ids arrive as a pandas text column, in any order; the draw follows each id.
    shuffled = pd.Series(ids, dtype="str").sample(frac=1.0, random_state=7)
    assert np.array_equal(qa_uniform(shuffled, "credit-qa"), expected[shuffled.index.to_numpy()])
    assert np.array_equal(qa_sampled(shuffled, "credit-qa", 0.3), expected[shuffled.index.to_numpy()] < 0.3)
    assert np.array_equal(qa_uniform(ids, "another salt"), _hashlib_uniform(ids, "another salt"))
    assert np.array_equal(qa_uniform([42, 7], "s"), _hashlib_uniform(["42", "7"], "s"))  # non-text ids as their text
    assert qa_uniform([], "s").shape == (0,) and qa_sampled(pd.Series([], dtype="str"), "s", 0.5).shape == (0,)
    with pytest.raises(ValueError, match="1 have none"):
        qa_uniform(pd.Series(["A1", None], dtype="str"), "s")
