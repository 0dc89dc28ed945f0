"""The one line `keel run` prints for a failed step names the error that started it, not Dagster's wrapper."""

import sys

import pandas as pd
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._utils.error import serializable_error_info_from_exc_info

from keel.orchestrate import INTERRUPTED, MARKED_FAILED_FROM_OUTSIDE, failure_detail, run_failure_reason


def _error_info(raise_it):
    try:
        raise_it()
    except BaseException:  # Dagster's interruption is not an Exception
        return serializable_error_info_from_exc_info(sys.exc_info())
    raise AssertionError("nothing was raised")


def _wrapped(cause: Exception):
    def raise_it():
        try:
            raise cause
        except BaseException as error:
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


def test_an_interrupted_step_says_so_not_dagster_s_empty_error():
    """Dagster's error for a step stopped by Ctrl-C has no message: the line read "DagsterExecutionInterruptedError: "."""
    assert failure_detail(_error_info(_wrapped(DagsterExecutionInterruptedError()))) == INTERRUPTED


def test_an_error_without_a_message_is_named_without_a_dangling_colon():
    def raise_it():
        raise TimeoutError()

    assert failure_detail(_error_info(raise_it)) == "TimeoutError"


def test_no_error_info_reads_failed():
    assert failure_detail(None) == "failed"


def test_a_run_failed_from_outside_its_steps_says_why_not_that_it_was_marked():
    killed = "[DagsterApiServer] Run execution process for r1 was terminated by signal 9 (SIGKILL)."
    assert run_failure_reason(MARKED_FAILED_FROM_OUTSIDE, killed) == "Run execution process for r1 was terminated by signal 9 (SIGKILL)."
    assert run_failure_reason("keel: its process (pid 7, running it since ...) was gone", "Executing steps in process") == "its process (pid 7, running it since ...) was gone"
    assert run_failure_reason('Execution of run for "daily_decisioning" failed.', "x") == 'Execution of run for "daily_decisioning" failed.'
    assert run_failure_reason(MARKED_FAILED_FROM_OUTSIDE, None) == MARKED_FAILED_FROM_OUTSIDE
    assert run_failure_reason(None, "x") is None
