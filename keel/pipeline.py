"""The names of keel's jobs and of the assets each daily path materializes.

Shared by the Dagster wiring (sensors/jobs.py) and the CLI (keel/runs.py) so
that a run started by a sensor and one started by `keel run` do the same work.
"""

DAILY_JOB = "daily_decisioning"
OUTCOMES_JOB = "ingest_outcomes"
TRAINING_JOB = "train_model"
FRESHNESS_JOB = "check_source_freshness"
REVIEW_JOB = "review_decisions"

OUTCOME_ASSETS = ("raw_outcomes", "stg_outcomes")
DECISIONING_ASSETS = (
    "raw_applications",
    "stg_applications",
    "application_features",
    "scores",
    "decisions",
    "review_queue",
    "decision_ledger",
)
# The labelled history is only ingested and featurized: it is not decided.
HISTORY_ASSETS = ("raw_applications", "stg_applications", "application_features")
TRAINING_ASSETS = ("training_set", "candidate_model", "model_evaluation")
# Drift, performance and segments of each scoring day; part of the daily job.
MONITORING_ASSETS = ("feature_drift", "score_drift", "model_performance", "segment_outcomes")
# Reviewers' decisions in, and the decision that stands for each application.
REVIEW_ASSETS = ("review_outcomes", "final_decisions")
