"""A run waiting for the `warehouse` pool's slot waits without spinning a core.

When a step's claim on a pool is refused, Dagster (1.13) retries it after a
growing back-off, but the loop that asks does not sleep meanwhile: the
in-process executor computes its nap as `min(0, …)`, and the multiprocess
executor, with no step of its own running, asks again at once. A run waiting
while another run holds the slot took a whole core (99% CPU measured, for as
long as the other run lasted); on a two-core machine that is half of what the
working run could use, whenever two runs overlap (days landed together after
an outage, a `keel run` beside the daemon's).

The wrapper naps after a claim refused while its retry is not due, at most
`LONGEST_NAP_SECONDS` so that a termination request is still seen within
it. Dagster's retry schedule is unchanged: the step claims its slot at the
same moments it did. Only a refused claim naps, and with keel's one step at
a time per run (definitions.py), a run that claims has no other step of its
own whose events would wait.
"""

from __future__ import annotations

import functools
import time

from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

LONGEST_NAP_SECONDS = 0.25


def nap_before_retry(retry_at: float | None, now: float) -> float:
    """How long a refused claim naps: until its retry is due, at most LONGEST_NAP_SECONDS."""
    if retry_at is None:
        return 0.0
    return max(0.0, min(LONGEST_NAP_SECONDS, retry_at - now))


def wait_without_spinning() -> None:
    """Make every refused pool claim of this process nap until its retry is due (once per process)."""
    claim = InstanceConcurrencyContext.claim
    if getattr(claim, "naps_before_retry", False):
        return

    @functools.wraps(claim)
    def claim_or_nap(self: InstanceConcurrencyContext, concurrency_key: str, step_key: str, step_priority: int = 0) -> bool:
        claimed = claim(self, concurrency_key, step_key, step_priority)
        if not claimed:
            time.sleep(nap_before_retry(self._pending_timeouts.get(step_key), time.time()))
        return claimed

    claim_or_nap.naps_before_retry = True
    InstanceConcurrencyContext.claim = claim_or_nap
