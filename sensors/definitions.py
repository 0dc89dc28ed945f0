"""Sensors, schedules and the jobs they launch."""

from __future__ import annotations

import dagster as dg

from sensors import drift, model_registry, review, review_sla, run_failures, source_outage
from sensors.jobs import JOBS
from sensors.landing import landing_sensor
from sensors.schedules import daily_scoring, source_freshness, source_freshness_job

WORKFLOWS = [review, review_sla, drift, model_registry, run_failures, source_outage]

defs = dg.Definitions(
    jobs=[*JOBS, source_freshness_job, *(job for module in WORKFLOWS for job in module.JOBS)],
    sensors=[landing_sensor, *(sensor for module in WORKFLOWS for sensor in module.SENSORS)],
    schedules=[daily_scoring, source_freshness],
)
