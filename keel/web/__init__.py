"""Web pages keel serves beside the Dagster UI (the review page); each binds 127.0.0.1 by default."""
