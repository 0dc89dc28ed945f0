"""Quality: expectation suites on the feature mart, run through Great Expectations as asset checks."""
