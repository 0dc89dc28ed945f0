"""Benchmarks: measured, never asserted in tests (docs/BENCHMARKS.md has the figures)."""
