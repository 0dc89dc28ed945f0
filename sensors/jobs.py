"""Jobs the sensors, schedules and the CLI launch."""

from __future__ import annotations

import warnings

import dagster as dg

from assets.constants import CHECK_SOURCE_DELIVERED, DAILY_PARTITIONS
from keel.pipeline import DAILY_JOB, DECISIONING_ASSETS, MONITORING_ASSETS, OUTCOME_ASSETS, OUTCOMES_JOB, TRAINING_ASSETS, TRAINING_JOB


# The daily job can also take the day's repayment outcomes, so one run per day suffices.
# Without the delivery check: a day's run starts from its landed file, so there
# it could only pass (raw_applications fails first when the file is missing),
# at the price of a step; the hourly source_freshness job runs it instead.
SOURCE_DELIVERED_CHECK = dg.AssetCheckKey(dg.AssetKey("raw_applications"), CHECK_SOURCE_DELIVERED)
DAILY_DECISIONING_SELECTION = dg.AssetSelection.assets(
    *DECISIONING_ASSETS, *OUTCOME_ASSETS, *MONITORING_ASSETS
) - dg.AssetSelection.checks(SOURCE_DELIVERED_CHECK)

# dbt_transform declares BackfillPolicy.single_run (a range of days in one dbt
# invocation, as `keel demo` ingests its history); the other daily assets declare
# none. Resolving a job that holds both, Dagster picks one run per day, which is
# what these jobs do, and warns each time it loads them, in every code server and
# run worker, with its lists of assets printed empty. The warning says nothing
# a person could act on; tests/integration/test_definitions.py checks the policy.
warnings.filterwarnings(
    "ignore",
    message=f"Asset job ({DAILY_JOB}|{OUTCOMES_JOB}) materializes assets with varying BackfillPolicies",
    category=UserWarning,
)

daily_decisioning_job = dg.define_asset_job(
    DAILY_JOB,
    selection=DAILY_DECISIONING_SELECTION,
    partitions_def=DAILY_PARTITIONS,
    description="One day of applications: ingest through the contract, build features, score, decide, queue reviews.",
)

outcomes_job = dg.define_asset_job(
    OUTCOMES_JOB,
    selection=dg.AssetSelection.assets(*OUTCOME_ASSETS),
    partitions_def=DAILY_PARTITIONS,
    description="One day of repayment outcomes: the delayed labels.",
)

training_job = dg.define_asset_job(
    TRAINING_JOB,
    selection=dg.AssetSelection.assets(*TRAINING_ASSETS),
    description="Train a candidate model on every application whose outcome is known.",
)

JOBS = [daily_decisioning_job, outcomes_job, training_job]
