"""Names shared by keel's assets: groups, owners, partitions, pools, check names."""


import dagster as dg

from keel.demo_calendar import DemoCalendar

# Asset groups read as the business process, left to right in the UI.
GROUP_INGEST = "ingest"
GROUP_TRANSFORM = "transform"
GROUP_MODEL = "model"
GROUP_DECISIONING = "decisioning"
GROUP_REVIEW = "review"
GROUP_MONITORING = "monitoring"
GROUP_AUDIT = "audit"
ASSET_GROUPS = (
    GROUP_INGEST,
    GROUP_TRANSFORM,
    GROUP_MODEL,
    GROUP_DECISIONING,
    GROUP_REVIEW,
    GROUP_MONITORING,
    GROUP_AUDIT,
)

OWNER_DATA = "team:data-platform"
OWNER_RISK = "team:credit-risk"
OWNER_OPS = "team:credit-operations"

# The one DuckDB file takes one writer at a time (limit set in dagster.yaml).
WAREHOUSE_POOL = "warehouse"

DAILY_PARTITIONS = dg.DailyPartitionsDefinition(
    start_date=DemoCalendar().first_day.isoformat(),
    end_offset=1,
)

# Asset check names, so sensors and tests refer to the same strings.
CHECK_RECONCILIATION = "rows_reconcile"
CHECK_CONTRACT_SCHEMA = "contract_schema"
CHECK_SCHEMA_DRIFT = "no_unexpected_columns"
CHECK_ROUTES_COMPLETE = "every_application_routed"
CHECK_MODEL_AVAILABLE = "model_available"
CHECK_FEATURE_EXPECTATIONS = "feature_expectations"
CHECK_SOURCE_DELIVERED = "source_delivered_on_time"
CHECK_OUTCOMES_LINKED = "outcomes_name_received_applications"
# Monitoring checks (assets/monitoring.py); the drift sensor acts on the failing drift and performance ones.
CHECK_FEATURE_DRIFT = "features_within_drift_thresholds"
CHECK_DATASET_DRIFT = "dataset_not_drifted"
CHECK_VOLUME = "daily_volume_as_expected"
CHECK_SCORE_DRIFT = "score_distribution_stable"
CHECK_PERFORMANCE = "performance_within_thresholds"
CHECK_FOUR_FIFTHS = "approval_rates_meet_four_fifths_rule"
# Review checks (assets/review.py), each held to the policy's review.alerts levels.
CHECK_REVIEW_RATE = "review_rate_within_policy"
CHECK_OVERRIDE_RATE = "override_rate_within_policy"
CHECK_QA_DISAGREEMENT = "qa_disagreement_within_policy"
CHECK_REVIEW_SLA = "reviews_within_sla"
