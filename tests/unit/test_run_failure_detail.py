"""The one line `keel run` prints for a failed step names the error that started it, not Dagster's wrapper."""

import sys

import pandas as pd
from dagster._utils.error import serializable_error_info_from_exc_info

from keel.orchestrate import failure_detail


def _error_info(raise_it):
    try:
        raise_it()
    except Exception:
        return serializable_error_info_from_exc_info(sys.exc_info())
    raise AssertionError("nothing was raised")


def _wrapped(cause: Exception):
    def raise_it():
        try:
            raise cause
        except Exception as error:
            raise RuntimeError('Error occurred while executing op "daily_monitoring":') from error

    return raise_it


def test_the_innermost_cause_is_reported_with_its_class_unqualified():
    info = _error_info(_wrapped(pd.errors.MergeError("Merge keys are not unique in right dataset")))
    assert failure_detail(info) == "MergeError: Merge keys are not unique in right dataset"


def test_a_builtin_error_keeps_its_whole_message():
    info = _error_info(_wrapped(ValueError("score column missing\nsecond line")))
    assert failure_detail(info).splitlines()[0] == "ValueError: score column missing"


def test_an_error_without_a_cause_is_reported_itself():
    def raise_it():
        raise KeyError("p_bad")

    assert failure_detail(_error_info(raise_it)) == "KeyError: 'p_bad'"


def test_no_error_info_reads_failed():
    assert failure_detail(None) == "failed"
