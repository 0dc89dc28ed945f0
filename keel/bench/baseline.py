"""The daily path as a bare script: the yardstick keel's overhead is measured against.

The same computations as the daily job — read the day's file, type it, build
the features of the dbt mart, score with the champion, apply the policy, write
the decisions — in one process, with no Dagster, no dbt, no contract, no
checks, no quarantine, no ledger. What keel adds on top of this is the price
of everything around the model.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from keel.control_store import ControlStore
from keel.home import KeelHome

AGE_BANDS = (25, 35, 45, 55)
AGE_BAND_LABELS = np.array(["18-25", "26-35", "36-45", "46-55", "56+"], dtype=object)


def plain_features(raw: pd.DataFrame) -> pd.DataFrame:
    """stg_applications + application_features (dbt_project/models) in pandas."""
    amount, price, term, income = (raw[c].astype("float64") for c in ("amount", "price", "time", "income"))
    return pd.DataFrame(
        {
            "application_id": raw["application_id"],
            "application_date": pd.to_datetime(raw["application_date"]),
            "seniority_years": raw["seniority"].astype("int64"),
            "home": raw["home"],
            "loan_term_months": raw["time"].astype("int64"),
            "age": raw["age"].astype("int64"),
            "age_band": AGE_BAND_LABELS[np.searchsorted(AGE_BANDS, raw["age"].to_numpy(), side="left")],
            "marital": raw["marital"],
            "has_records": (raw["records"] == "yes").astype("int64"),
            "job": raw["job"],
            "expenses": raw["expenses"].astype("float64"),
            "income": income,
            "assets": raw["assets"].astype("float64"),
            "debt": raw["debt"].astype("float64"),
            "amount": amount,
            "price": price,
            "loan_to_price": amount / price.replace(0, np.nan),
            "installment_to_income": (amount / term.replace(0, np.nan)) / income.replace(0, np.nan),
        }
    )


def run_baseline(landing_file: Path, home: KeelHome, out_dir: Path) -> dict:
    """Seconds per stage of the bare script on one day's file; writes the decisions as Parquet."""
    from keel.decisioning import decide_day, score_day

    stages: dict[str, float] = {}
    started = last = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        stages[name] = round(now - last, 3)
        last = now

    raw = pd.read_csv(landing_file, engine="pyarrow")
    lap("read")
    features = plain_features(raw)
    lap("features")
    store = ControlStore(home.control_store)
    scored = score_day(features, store, home)
    lap("score")
    decided = decide_day(features, scored.frame, store, home)
    lap("decide")
    out_dir.mkdir(parents=True, exist_ok=True)
    decided.frame.to_parquet(out_dir / "decisions.parquet", index=False)
    lap("write")
    return {"seconds": round(time.perf_counter() - started, 3), "stages": stages, "rows": len(decided.frame)}
