"""A deterministic share of automatic decisions that a person checks anyway.

Quality assurance needs a sample that nobody can steer and everybody can
reproduce: an auditor re-running the policy next year must find the same
cases sampled. Each application id, joined to the policy's salt, is hashed
with sha256; the first 8 bytes of the digest, read as an integer, give a
number in [0, 1) that is the same on every machine, process and Python
version (Python's own hash() is randomized per process, so it is never used).
A case is sampled when its number is below the policy's rate, so raising the
rate only ever adds cases to the sample. Changing the salt draws a fresh sample.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

# The salt and the id are joined with a separator that cannot occur in either.
SEPARATOR = b"\x1f"


def qa_uniform(application_ids: Iterable[str], salt: str) -> np.ndarray:
    """A number in [0, 1) per application id, a pure function of (id, salt)."""
    prefix = salt.encode("utf-8") + SEPARATOR
    sha256 = hashlib.sha256
    # One C-level hash per id; joining the 8-byte prefixes lets numpy read them all at once.
    digests = b"".join([sha256(prefix + str(i).encode("utf-8")).digest()[:8] for i in application_ids])
    top_bits = np.frombuffer(digests, dtype=">u8") >> np.uint64(11)  # keep 53 bits: exact in a float64
    return top_bits.astype("float64") * 2.0**-53


def qa_sampled(application_ids: Iterable[str], salt: str, rate: float) -> np.ndarray:
    """True for the ids in the QA sample at this rate."""
    ids = list(application_ids)
    if rate <= 0:
        return np.zeros(len(ids), dtype=bool)
    return qa_uniform(ids, salt) < rate
