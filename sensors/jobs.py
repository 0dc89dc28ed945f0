"""Jobs the sensors, schedules and the CLI launch."""

from __future__ import annotations

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
