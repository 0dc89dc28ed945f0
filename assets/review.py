"""Review: the cases the policy sends to a person, their decisions coming back, and the decision that stands."""


import datetime as dt
import time
from typing import TYPE_CHECKING

import dagster as dg

from assets.constants import (
    CHECK_OVERRIDE_RATE,
    CHECK_QA_DISAGREEMENT,
    CHECK_REVIEW_RATE,
    CHECK_REVIEW_SLA,
    DAILY_PARTITIONS,
    GROUP_REVIEW,
    OWNER_OPS,
    WAREHOUSE_POOL,
)
from keel.settling import SETTLE_SECONDS
from keel.tables import markdown_table
from resources.control_store import ControlStoreResource
from resources.keel_home import KeelHomeResource
from resources.warehouse import WarehouseResource

if TYPE_CHECKING:
    import pandas as pd


QUEUE_PREVIEW_ROWS = 25
QUEUE_PREVIEW_SQL = "select * from review.review_queue where application_date = cast(? as date) order by application_id limit ?"


@dg.asset(
    name="review_queue",
    partitions_def=DAILY_PARTITIONS,
    deps=[dg.AssetKey("decisions")],
    group_name=GROUP_REVIEW,
    owners=[OWNER_OPS],
    kinds={"python", "duckdb"},
    code_version="2",
    pool=WAREHOUSE_POOL,
    description=(
        "The day's applications waiting for a human decision: each with its score, the rules that fired, "
        "the suggested decision, when it is due and the model version that scored it (the features that "
        "pushed the score most are shown with the case: the preview here, `keel review list` and `export`)."
    ),
)
def review_queue(context: dg.AssetExecutionContext, keel_home: KeelHomeResource, warehouse: WarehouseResource, control_store: ControlStoreResource):
    from keel import decisioning
    from keel import warehouse as wh
    from keel.models.artifacts import ModelStore  # skops loads with the step, not with the definitions
    from keel.review.explanations import with_explanations

    day = context.partition_key
    with warehouse.connect() as con:
        # Built in the warehouse: the cases (~0.4 million of a million-row day) never become a frame.
        queued = wh.replace_rows_from_query(
            con, "review", "review_queue", decisioning.REVIEW_QUEUE_SQL, decisioning.review_queue_params(day), "application_date", [day]
        )
        shown = wh.query_frame(con, QUEUE_PREVIEW_SQL, [day, QUEUE_PREVIEW_ROWS])
        # Explaining costs a prediction per feature: done for the cases shown here, the rest when a reviewer lists them.
        preview = with_explanations(con, shown, control_store.open(), ModelStore(keel_home.home.models))
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(queued),
            "queue": dg.MetadataValue.md(
                markdown_table(preview[["application_id", "p_bad", "suggested_decision", "reason_codes", "top_features", "due_by"]], QUEUE_PREVIEW_ROWS)
                if queued
                else "_nothing to review_"
            ),
        }
    )


# --- reviewers' decisions back in, and the decision that stands --------------------------------------

REVIEW_CHECKS = (
    (CHECK_REVIEW_RATE, "review_rate", "The share of decided applications sent to a person stays at or below the policy's review_rate_above."),
    (CHECK_OVERRIDE_RATE, "override_rate", "Reviewers overrule the suggested decision no more often than the policy's override_rate_above: more means the thresholds no longer fit."),
    (CHECK_QA_DISAGREEMENT, "qa_disagreement_rate", "Reviewers reverse QA-sampled automatic decisions no more often than the policy's qa_disagreement_rate_above: more means the automatic path may be wrong."),
    (CHECK_REVIEW_SLA, "sla_breaches", "No case waits past the policy's review SLA (pending past due_by, or decided after it)."),
)


@dg.asset(
    name="review_outcomes",
    deps=[dg.AssetKey("review_queue")],
    group_name=GROUP_REVIEW,
    owners=[OWNER_OPS],
    kinds={"python", "duckdb"},
    code_version="2",
    pool=WAREHOUSE_POOL,
    description=(
        "Reviewers' decisions as they came back through the inbox (KEEL_HOME/review/inbox, JSON Lines; "
        "`keel review decide` and `keel review import` write there): one row per accepted decision with the "
        "reviewer, their reason, when, and the inbox file and line it came from; an amendment (a reviewer "
        "correcting a decision) is a row of its own, after the one it amends. Append-only. Refused lines "
        "go to review/rejected with their reason; processed files to review/processed. Each accepted decision "
        "is also appended to the decision ledger as a review event."
    ),
)
def review_outcomes(context: dg.AssetExecutionContext, keel_home: KeelHomeResource, warehouse: WarehouseResource) -> dg.MaterializeResult:
    import pandas as pd

    from keel import warehouse as wh
    from keel.review.ingest import ingest_inbox

    home = keel_home.home
    # `keel review ingest` is a person saying "now": it takes every file. A sensor's or the UI's run
    # leaves a file modified in the last seconds for later: a tool may still be appending to it.
    now = None if context.run.tags.get("keel/trigger") == "cli" else time.time()
    with warehouse.connect() as con:
        ingested = ingest_inbox(con, home.review_inbox, home.review_processed, home.review_rejected, context.run_id, now=now)
        _append_review_events(con, ingested.days, context.run_id)
        total = int(wh.fetch_one(con, "select count(*) from review.review_outcomes")[0]) if wh.table_exists(con, "review", "review_outcomes") else 0
    for item in ingested.files:
        context.log.info(f"{item.name}: {item.accepted} decisions accepted, {item.rejected} lines refused" + (f" ({item.rejected_file})" if item.rejected_file else ""))
    if ingested.still_being_written:
        context.log.info(f"left in the inbox, modified in the last {SETTLE_SECONDS:.0f} s: {', '.join(ingested.still_being_written)}")
    files = pd.DataFrame([vars(f) for f in ingested.files]) if ingested.files else None
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": dg.MetadataValue.int(total),
            "files_ingested": dg.MetadataValue.int(len(ingested.files)),
            "accepted": dg.MetadataValue.int(ingested.accepted),
            "rejected": dg.MetadataValue.int(ingested.rejected),
            "days_touched": ", ".join(ingested.days) or "none",
            "left_still_being_written": ", ".join(ingested.still_being_written) or "none",
            "files": dg.MetadataValue.md(markdown_table(files) if files is not None else "_no new inbox files_"),
        }
    )


@dg.asset(
    name="final_decisions",
    deps=[dg.AssetKey("review_outcomes"), dg.AssetKey("decisions")],
    group_name=GROUP_REVIEW,
    owners=[OWNER_OPS],
    kinds={"python", "duckdb"},
    code_version="2",
    pool=WAREHOUSE_POOL,
    check_specs=[dg.AssetCheckSpec(name, asset="final_decisions", description=text) for name, _measure, text in REVIEW_CHECKS],
    description=(
        "The decision that stands for every application: automatic approvals and declines as the policy "
        "routed them, reviewed cases with their reviewer's decision (the latest, when amended), and cases still waiting as pending "
        "(never defaulted to the suggestion). Rebuilt for the days decided or reviewed since the last build. "
        "Review measures (review, override and QA disagreement rates, oldest pending case, SLA breaches) "
        "are metadata and checks against the policy's levels."
    ),
)
def final_decisions_asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from keel import decisioning
    from keel import warehouse as wh
    from keel.review.ingest import refresh_final_decisions

    policy = decisioning.current_policy()
    with warehouse.connect() as con:
        rebuilt = refresh_final_decisions(con)
        measures, by_day = _review_measures(con, policy)
        if len(by_day):
            wh.replace_rows(con, "review", "review_measures_daily", by_day, "application_date", by_day["application_date"].astype("str").tolist())
    alerts = {alert["measure"]: alert for alert in measures.get("alerts", [])}
    figures = {k: v for k, v in measures.items() if isinstance(v, (int, float)) and not isinstance(v, bool) and v is not None}
    yield dg.MaterializeResult(
        metadata={
            "days_rebuilt": ", ".join(sorted({str(d)[:10] for d in rebuilt.get("application_date", [])})) or "none",
            **{k: (dg.MetadataValue.float(float(v)) if isinstance(v, float) else dg.MetadataValue.int(int(v))) for k, v in figures.items()},
            "by_day": dg.MetadataValue.md(markdown_table(by_day.tail(14)) if len(by_day) else "_no decisions yet_"),
        }
    )
    for name, measure, _text in REVIEW_CHECKS:
        alert = alerts.get(measure)
        value = measures.get(measure)
        yield dg.AssetCheckResult(
            check_name=name,
            passed=alert is None,
            severity=dg.AssetCheckSeverity.WARN,
            description=alert["message"] if alert else _within_policy(measure, value),
            metadata={measure: dg.MetadataValue.float(float(value)) if value is not None else dg.MetadataValue.text("n/a")},
        )


def _within_policy(measure: str, value: float | int | None) -> str:
    if value is None:
        return f"{measure} not measurable yet (no cases to measure it over)"
    return f"{measure} {value} within the policy's level"


def _append_review_events(con, days: list[str], run_id: str) -> None:
    """Each touched day's reviews, cumulatively, as a review batch of the decision ledger."""
    from keel.ledger_events import REVIEW, review_event_rows
    from keel.ledger_store import append_batch

    if not days:
        return
    outcomes = con.execute(
        "select * from review.review_outcomes where cast(application_date as date) in (select unnest(cast(? as date[]))) order by ingest_seq",
        [days],
    ).df()
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    for day, rows in review_event_rows(outcomes).items():
        append_batch(con, rows, day, REVIEW, run_id, now)


MEASURE_INPUT_SQL = """
select d.application_id, cast(d.application_date as date) as application_date, d.route, d.qa_sampled,
       q.queued_at, q.due_by
from decisioning.decisions d left join review.review_queue q using (application_id)
order by d.application_id
"""


def _review_measures(con, policy) -> "tuple[dict, pd.DataFrame]":
    """Measures over every decided application, and one row of them per application day."""
    import pandas as pd

    from keel import warehouse as wh
    from keel.review.measures import review_measures

    if not wh.table_exists(con, "review", "final_decisions"):
        return {}, pd.DataFrame()
    decided = con.execute(MEASURE_INPUT_SQL).df()
    final = con.execute(
        "select application_id, final_decision, decided_by, reviewer, review_reason, reviewed_at, overridden from review.final_decisions"
    ).df()
    decided = decided[decided["application_id"].isin(final["application_id"])]
    now = dt.datetime.now(dt.timezone.utc)
    overall = review_measures(decided, final, now, policy)
    rows = []
    for day, group in decided.groupby("application_date"):
        day_measures = review_measures(group, final[final["application_id"].isin(group["application_id"])], now)
        rows.append({"application_date": day, **day_measures})
    by_day = pd.DataFrame(rows)
    # Rates are undefined (None) on a day nobody reviewed yet: keep the columns numeric from the first day on.
    rates = [c for c in by_day.columns if c.endswith("_rate") or c.endswith("_hours")]
    return overall, by_day.astype({c: "float64" for c in rates})
