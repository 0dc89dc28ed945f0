"""Where keel's time goes beyond the bare script's, from one `keel bench` run's figures.

The ratio to the baseline mixes two things: the model's scoring, which both
sides do and which swings with the machine, and everything keel does around
it. This splits keel's extra seconds into what a reader can act on: the
steps that do the script's stages another way (the contract and DuckDB for
the read, dbt for the features, the hash-chained ledger for the write, ...),
the steps the script has no counterpart for (the expectations, monitoring,
the review queue, the outcomes' ingest), and the time outside any step (the forkserver's imports, Dagster starting each
step).
"""

from __future__ import annotations

SCORING_STEP = "scores"
SCORING_STAGE = "score"

# The daily job's steps that do one of the bare script's stages (keel.bench.baseline), and that stage.
COUNTERPART_STAGE = {
    "raw_applications": "read",
    "dbt_transform": "features",
    "scores": "score",
    "decisions": "decide",
    "decision_ledger": "write",
}


def overhead_breakdown(keel_s: float, stages: dict[str, float], baseline_s: float, baseline_stages: dict[str, float]) -> dict:
    """keel's seconds split against the bare script's (all rounded to the millisecond).

    `around_scoring_s` and `baseline_around_scoring_s` are each side's time
    less its scoring; `outside_steps_s` is keel's time in no step;
    `step_over_counterpart_s` is each step with a counterpart less that
    stage; `steps_without_counterpart_s` the other steps together. The
    parts add up: outside + steps with a counterpart + steps without =
    keel_s, and the counterparts' excess plus the steps without plus the
    outside = keel_s less the script's counterpart stages.
    """
    if SCORING_STEP not in stages or SCORING_STAGE not in baseline_stages:
        raise ValueError(f"a benchmark run without its scoring: steps {sorted(stages)}, baseline stages {sorted(baseline_stages)}")
    over_counterpart = {
        step: round(seconds - baseline_stages[COUNTERPART_STAGE[step]], 3)
        for step, seconds in stages.items()
        if step in COUNTERPART_STAGE
    }
    without_counterpart = {step: seconds for step, seconds in stages.items() if step not in COUNTERPART_STAGE}
    return {
        "around_scoring_s": round(keel_s - stages[SCORING_STEP], 3),
        "baseline_around_scoring_s": round(baseline_s - baseline_stages[SCORING_STAGE], 3),
        "outside_steps_s": round(keel_s - sum(stages.values()), 3),
        "step_over_counterpart_s": dict(sorted(over_counterpart.items(), key=lambda item: -item[1])),
        "steps_without_counterpart_s": round(sum(without_counterpart.values()), 3),
    }
