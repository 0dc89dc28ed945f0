"""Dagster resources: thin handles on keel's state under KEEL_HOME."""
