"""Sensors and schedules: what starts runs without anyone clicking."""
