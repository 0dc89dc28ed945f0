"""A job of two independent steps in one pool, run by keel's executor (test_definitions imports it by name)."""

import time

import dagster as dg

import definitions

POOL = "probe"


@dg.asset(pool=POOL)
def first_in_pool() -> None:
    """Holds the pool long enough for the executor to try starting the other step meanwhile, if it would."""
    time.sleep(3)


@dg.asset(pool=POOL)
def second_in_pool() -> None:
    """Independent of first_in_pool: only the pool keeps the two apart."""


def two_steps_in_one_pool() -> dg.JobDefinition:
    return dg.Definitions(
        assets=[first_in_pool, second_in_pool],
        jobs=[dg.define_asset_job("two_steps_in_one_pool")],
        executor=definitions.EXECUTOR,
    ).resolve_job_def("two_steps_in_one_pool")
