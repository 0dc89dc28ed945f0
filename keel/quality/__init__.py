"""Data quality beyond the contracts: expectation suites on the feature mart, run with Great Expectations."""

from keel.quality.expectations import ExpectationOutcome, SuiteOutcome, load_suite_config, validate_frame

__all__ = ["ExpectationOutcome", "SuiteOutcome", "load_suite_config", "validate_frame"]
