"""Sensors and jobs of the review workflow."""

JOBS: list = []
SENSORS: list = []
