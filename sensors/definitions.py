"""Sensors, schedules and the jobs they launch."""

from __future__ import annotations

import dagster as dg

from sensors.jobs import JOBS
from sensors.landing import landing_sensor
from sensors.schedules import daily_scoring

defs = dg.Definitions(jobs=JOBS, sensors=[landing_sensor], schedules=[daily_scoring])
