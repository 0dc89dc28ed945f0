"""A run waiting for the `warehouse` pool's slot waits without spinning a core, and takes the slot when it is given.

Two things in Dagster (1.13) made overlapping runs (days landed together
after an outage, a `keel run` beside the daemon's) slow on this machine:

- When a step's claim on a pool is refused, the loop that asks again does
  not sleep: the in-process executor computes its nap as `min(0, …)`, and
  the multiprocess executor, with no step of its own running, asks again at
  once. A run waiting while another run held the slot took a whole core
  (4.98 s of CPU in 5 s), half of what the working run could use. After a
  refused claim the wrapper naps until the retry is due, at most
  `LONGEST_NAP_SECONDS`, so that a termination request is still seen.
- The retry comes after a back-off growing by a tenth per try, up to 15 s.
  When a step frees the slot, Dagster gives it to the oldest waiting claim,
  and no step of any run uses the warehouse until that claim's retry comes.
  With one writer and a few runs on one machine, asking every
  `RETRY_EVERY_SECONDS` costs one query of the instance's index each time.

Only a refused claim naps, and with keel's one step at a time per run
(definitions.py), a run that claims has no other step of its own whose
events would wait.
"""

from __future__ import annotations

import functools
import time

from dagster._core.execution.plan import instance_concurrency_context
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

LONGEST_NAP_SECONDS = 0.25
RETRY_EVERY_SECONDS = 0.5


def nap_before_retry(retry_at: float | None, now: float) -> float:
    """How long a refused claim naps: until its retry is due, at most LONGEST_NAP_SECONDS."""
    if retry_at is None:
        return 0.0
    return max(0.0, min(LONGEST_NAP_SECONDS, retry_at - now))


def retry_interval(sleep_interval: float | None, pending_claim_count: int) -> float:
    """When a refused claim is asked again: when the instance says, else every RETRY_EVERY_SECONDS, however many tries."""
    return sleep_interval if sleep_interval is not None else RETRY_EVERY_SECONDS


def wait_without_spinning() -> None:
    """Make every refused pool claim of this process nap until its retry, due every RETRY_EVERY_SECONDS (once per process)."""
    claim = InstanceConcurrencyContext.claim
    if getattr(claim, "naps_before_retry", False):
        return
    instance_concurrency_context._calculate_timeout_interval = retry_interval

    @functools.wraps(claim)
    def claim_or_nap(self: InstanceConcurrencyContext, concurrency_key: str, step_key: str, step_priority: int = 0) -> bool:
        claimed = claim(self, concurrency_key, step_key, step_priority)
        if not claimed:
            time.sleep(nap_before_retry(self._pending_timeouts.get(step_key), time.time()))
        return claimed

    claim_or_nap.naps_before_retry = True
    InstanceConcurrencyContext.claim = claim_or_nap
