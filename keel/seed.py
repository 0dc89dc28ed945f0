"""The vendored demo data set, in the landing vocabulary of keel.columns.

data/seed/credit_data.csv holds 4,454 real credit applications (see
data/seed/PROVENANCE.md). Each gets a stable application id from its position
in the file, so the same seed row is the same application in every run.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import pandas as pd

from keel.columns import APPLICATION_ID, REPAYMENT_STATUS

SEED_PATH = Path(__file__).resolve().parent.parent / "data" / "seed" / "credit_data.csv"
# The checksum of the vendored file; a changed seed changes every demo figure.
SEED_SHA256 = "64984b2aff14d24ebdeb5a051d992194f03d0dc8f250372b9e37c4e653ba678d"


def seed_path() -> Path:
    return SEED_PATH


@lru_cache(maxsize=1)
def _load_seed_cached(path: str) -> pd.DataFrame:
    data = Path(path).read_bytes()
    found = hashlib.sha256(data).hexdigest()
    if Path(path) == SEED_PATH and found != SEED_SHA256:
        raise ValueError(
            f"{path}: seed data checksum {found} does not match the vendored {SEED_SHA256}; "
            "restore data/seed/credit_data.csv from ../shared/data"
        )
    frame = pd.read_csv(path)
    frame.columns = [c.lower() for c in frame.columns]
    frame.insert(0, APPLICATION_ID, [f"A{i:06d}" for i in range(1, len(frame) + 1)])
    return frame


def load_seed_applications(path: Path | None = None) -> pd.DataFrame:
    """All seed applications with their repayment status.

    Columns: application_id, status, then the source columns seniority, home,
    time, age, marital, records, job, expenses, income, assets, debt, amount,
    price (no application_date: the demo calendar assigns it).
    """
    frame = _load_seed_cached(str(path or SEED_PATH)).copy()
    return frame[[APPLICATION_ID, REPAYMENT_STATUS] + [c for c in frame.columns if c not in (APPLICATION_ID, REPAYMENT_STATUS)]]
