"""The two ways a policy can be wrong: as written, or against the data it is applied to."""

from __future__ import annotations


class PolicyError(ValueError):
    """The policy file is missing, is not valid YAML, or has a missing, unknown or impossible key.

    The message names the file, the key path, what was expected and what was found.
    """


class PolicyFieldError(ValueError):
    """One key of a policy document is wrong; load_policy prefixes the file name."""

    def __init__(self, key: str, expected: str, found: object) -> None:
        self.key = key or "<top level>"
        self.expected = expected
        self.found = found
        super().__init__(f"{self.key}: expected {expected}, found {found!r}")


class PolicyApplicationError(ValueError):
    """The policy cannot be applied to the frame it was given (a column it reads is absent or has the wrong type)."""


class PolicyNotInForce(ValueError):
    """The policy file in force takes effect after the application day it was asked to decide.

    A day is decided under the version in force on that day; the message names
    the file, the version, its effective date and the day.
    """
