"""Sensors and jobs of the model registry workflow."""

JOBS: list = []
SENSORS: list = []
