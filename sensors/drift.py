"""Sensors and jobs of the drift workflow."""

JOBS: list = []
SENSORS: list = []
