"""decide() on a large batch: whole-column operations, no per-row Python beyond the QA hash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from keel.policy import TrainingProfile, decide, load_policy

ROWS = 200_000


def test_decide_handles_a_large_batch():
    policy = load_policy(Path(__file__).resolve().parents[2] / "policies" / "credit_policy.yaml")
    rng = np.random.default_rng(7)
    income = rng.uniform(50, 1000, ROWS)
    income[rng.random(ROWS) < 0.08] = np.nan
    amount, price, term = rng.uniform(100, 5000, ROWS), rng.uniform(100, 11000, ROWS), rng.choice([12, 24, 36, 60], ROWS)
    frame = pd.DataFrame(
        {
            "application_id": pd.array([f"L{i:08d}" for i in range(ROWS)], dtype="str"),
            "seniority_years": rng.integers(0, 40, ROWS).astype(float),
            "loan_term_months": term.astype(float),
            "age": rng.integers(18, 70, ROWS).astype(float),
            "expenses": rng.uniform(35, 180, ROWS),
            "income": income,
            "assets": rng.uniform(0, 50_000, ROWS),
            "debt": rng.uniform(0, 5_000, ROWS),
            "amount": amount,
            "price": price,
            "has_records": (rng.random(ROWS) < 0.17).astype(int),
            "loan_to_price": amount / price,
            "installment_to_income": amount / term / income,
            "home": pd.array(rng.choice(["owner", "rent", "parents", "other"], ROWS), dtype="str"),
            "marital": pd.array(rng.choice(["married", "single", "widow"], ROWS), dtype="str"),
            "job": pd.array(rng.choice(["fixed", "freelance", "partime", "others"], ROWS), dtype="str"),
        }
    )
    profile = TrainingProfile.from_frame(frame.iloc[: ROWS // 2])
    scores = pd.Series(rng.beta(1.2, 3.0, ROWS))
    scores[rng.random(ROWS) < 0.01] = np.nan

    decided = decide(frame, scores, policy, profile, model_available=True)

    assert len(decided) == ROWS and decided["application_id"].is_unique
    assert set(decided["route"].unique()) == {"approve", "decline", "review"}
    assert decided["model_unavailable"].sum() == scores.isna().sum()
    automatic_before_qa = (decided["route"] != "review").sum() + decided["qa_sampled"].sum()
    assert 0.04 < decided["qa_sampled"].sum() / automatic_before_qa < 0.06
