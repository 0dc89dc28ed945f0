"""The seed applications as the feature mart would hold them, without a warehouse.

dbt builds `application_features` from landed files; tests, benchmarks and
notebooks that exercise the model lifecycle need the same columns straight
from data/seed/credit_data.csv. The derivations mirror
dbt_project/models/marts/application_features.sql (the SQL is the source of
truth; this copy exists so model code can be tested in well under a second).
Application dates are spread over `days` consecutive days so that a training
window exists.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from keel.columns import AGE_BANDS, APPLICATION_DATE, APPLICATION_ID, LABEL_BAD, REPAYMENT_STATUS
from keel.seed import load_seed_applications

FIRST_SEED_DAY = dt.date(2025, 11, 1)


def age_band(age: pd.Series) -> pd.Series:
    """The segment label of each age, per keel.columns.AGE_BANDS (missing age stays missing)."""
    bands = pd.Series(pd.NA, index=age.index, dtype="str")
    for low, high, label in AGE_BANDS:
        bands[(age >= low) & (age <= high)] = label
    return bands


def seed_feature_frame(days: int = 60, first_day: dt.date = FIRST_SEED_DAY) -> pd.DataFrame:
    """One feature row per seed application, with `status` and `is_bad` labels."""
    seed = load_seed_applications()
    term = seed["time"].astype("float64")
    income = seed["income"].astype("float64")
    price = seed["price"].astype("float64")
    offsets = np.arange(len(seed)) % days
    frame = pd.DataFrame(
        {
            APPLICATION_ID: seed[APPLICATION_ID],
            APPLICATION_DATE: pd.to_datetime(first_day) + pd.to_timedelta(offsets, unit="D"),
            "seniority_years": seed["seniority"].astype("float64"),
            "home": seed["home"],
            "loan_term_months": term,
            "age": seed["age"].astype("float64"),
            "marital": seed["marital"],
            "has_records": (seed["records"] == "yes").astype("int64"),
            "job": seed["job"],
            "expenses": seed["expenses"].astype("float64"),
            "income": income,
            "assets": seed["assets"].astype("float64"),
            "debt": seed["debt"].astype("float64"),
            "amount": seed["amount"].astype("float64"),
            "price": price,
        }
    )
    frame["age_band"] = age_band(frame["age"])
    frame["loan_to_price"] = frame["amount"] / price.replace(0, np.nan)
    frame["installment_to_income"] = (frame["amount"] / term.replace(0, np.nan)) / income.replace(0, np.nan)
    frame[REPAYMENT_STATUS] = seed[REPAYMENT_STATUS]
    frame["is_bad"] = (seed[REPAYMENT_STATUS] == LABEL_BAD).astype("int64")
    return frame
