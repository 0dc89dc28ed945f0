"""A refused pool claim naps until its retry is due, never longer than a termination request may wait."""

import pytest

from keel.pool_wait import LONGEST_NAP_SECONDS, RETRY_EVERY_SECONDS, nap_before_retry, retry_interval


def test_a_refused_claim_naps_until_its_retry_is_due():
    assert nap_before_retry(retry_at=100.1, now=100.0) == pytest.approx(0.1)


def test_a_retry_far_off_naps_only_the_longest_nap():
    assert nap_before_retry(retry_at=115.0, now=100.0) == LONGEST_NAP_SECONDS


def test_a_retry_due_or_unknown_does_not_nap():
    assert nap_before_retry(retry_at=99.0, now=100.0) == 0.0
    assert nap_before_retry(retry_at=None, now=100.0) == 0.0


def test_a_refused_claim_is_asked_again_every_half_second_however_many_tries_unless_the_instance_says():
    assert [retry_interval(None, tries) for tries in (0, 10, 40)] == [RETRY_EVERY_SECONDS] * 3
    assert retry_interval(3.0, 40) == 3.0
