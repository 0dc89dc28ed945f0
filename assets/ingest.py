"""Ingest: the day's landing files, through their data contracts, into the warehouse."""


import datetime as dt
from typing import TYPE_CHECKING

import dagster as dg

from assets.constants import (
    CHECK_CONTRACT_SCHEMA,
    CHECK_OUTCOMES_LINKED,
    CHECK_RECONCILIATION,
    CHECK_SCHEMA_DRIFT,
    CHECK_SOURCE_DELIVERED,
    DAILY_PARTITIONS,
    GROUP_INGEST,
    OWNER_DATA,
    WAREHOUSE_POOL,
)
from keel.landing_zone import days_named, find_landing_file, parse_date
from keel.tables import markdown_table
from resources.keel_home import KeelHomeResource
from resources.warehouse import WarehouseResource

if TYPE_CHECKING:
    from keel.ingest import IngestOutcome


def _ingest_checks(asset_name: str, blocks_the_day: bool) -> list[dg.AssetCheckSpec]:
    """The contract's checks on a source's day; `blocks_the_day`: whether a failure stops everything downstream.

    A broken applications file stops the day: deciding on part of it, or on
    misread columns, would be worse than deciding late. A broken outcomes file
    stops only itself: its rows wait in the quarantine and the landing zone
    until the source resends it, while the day's applications are decided
    (they do not need the labels) and monitoring judges on the outcomes it has.
    """
    scope = "the day is blocked" if blocks_the_day else "the file is held back (its rows quarantined) and the day carries on"
    return [
        dg.AssetCheckSpec(
            CHECK_RECONCILIATION,
            asset=asset_name,
            blocking=blocks_the_day,
            description="Every received row is accepted, quarantined with a reason, or dropped as a duplicate of a kept row.",
        ),
        dg.AssetCheckSpec(
            CHECK_CONTRACT_SCHEMA,
            asset=asset_name,
            blocking=blocks_the_day,
            description=f"The file is readable and has every required column of the contract with a compatible type; otherwise {scope}.",
        ),
        dg.AssetCheckSpec(
            CHECK_SCHEMA_DRIFT,
            asset=asset_name,
            description="The file has no columns the contract does not name (new columns are kept out of the pipeline until the contract names them).",
        ),
    ]


def _store(warehouse: WarehouseResource, source: str, day: str, outcome: "IngestOutcome") -> None:
    from keel.ingest import store_outcome

    with warehouse.connect() as con:
        store_outcome(con, source, day, outcome)


def _results(asset_name: str, outcome: "IngestOutcome") -> list[dg.AssetCheckResult]:
    counts = outcome.counts
    balanced = counts["received"] == counts["accepted"] + counts["quarantined"] + counts["duplicates"]
    added = list(outcome.result.added_columns) if outcome.result is not None else []
    # Each result names what it judged: a check's history in the UI lists runs by time, not by day.
    read, read_a_file = outcome.what_was_read, outcome.result is not None
    tally = f"received {counts['received']}, accepted {counts['accepted']} + quarantined {counts['quarantined']} + duplicates {counts['duplicates']}"
    return [
        dg.AssetCheckResult(
            asset_key=asset_name,
            check_name=CHECK_RECONCILIATION,
            passed=balanced,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={**{k: dg.MetadataValue.int(v) for k, v in counts.items()}},
            description=f"{read}: {tally}"
            if balanced
            else f"{outcome.source_file}: received {counts['received']} rows but accepted + quarantined + duplicates = "
            f"{counts['accepted'] + counts['quarantined'] + counts['duplicates']}",
        ),
        dg.AssetCheckResult(
            asset_key=asset_name,
            check_name=CHECK_CONTRACT_SCHEMA,
            passed=not outcome.blocked,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "contract_version": outcome.contract_version,
                "file_problem": outcome.file_problem or "none",
                "blocking_errors": dg.MetadataValue.md("\n".join(f"- {e}" for e in outcome.blocking_errors) or "none"),
            },
            description="; ".join(outcome.blocking_errors)
            or (f"{read}: read under contract {outcome.contract_version}, every required column present with a compatible type" if read_a_file else read),
        ),
        dg.AssetCheckResult(
            asset_key=asset_name,
            check_name=CHECK_SCHEMA_DRIFT,
            passed=not added,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"added_columns": ", ".join(added) or "none"},
            description=f"{outcome.source_file}: columns not in the contract were ignored: {', '.join(added)}"
            if added
            else (f"{read}: no column outside the contract" if read_a_file else read),
        ),
    ]


def _ingest_day(context: dg.AssetExecutionContext, source: str, day: str, keel_home: KeelHomeResource, warehouse: WarehouseResource) -> "IngestOutcome":
    from keel.ingest import ingest_file_into, nothing_landed

    folder = keel_home.home.landing_dir(source)
    path = find_landing_file(folder, source, parse_date(day))
    if path is None and source == "outcomes":
        context.log.info(f"no outcomes file for {day}: no repayment outcome became known that day")
        outcome = nothing_landed(source, parse_date(day))
        _store(warehouse, source, day, outcome)  # creates the empty table on a new instance
        return outcome
    if path is None:
        raise dg.Failure(
            description=f"no {source} file has landed for {day} in {folder} "
            f"(expected {source}_{day}.csv, .parquet or .jsonl): the source has not delivered it yet",
            allow_retries=False,
        )
    with warehouse.connect() as con:
        outcome = ingest_file_into(con, path, source, parse_date(day))
    context.log.info(f"{path.name}: {outcome.counts}" + (f" BLOCKED: {outcome.blocking_errors}" if outcome.blocked else ""))
    return outcome


def _materialize(context: dg.AssetExecutionContext, source: str, asset_name: str, keel_home: KeelHomeResource, warehouse: WarehouseResource):
    from keel.ingest import IngestOutcome

    # A backfill of several days (the demo's history) runs as one step over the range.
    outcomes = [_ingest_day(context, source, day, keel_home, warehouse) for day in context.partition_keys]
    merged = IngestOutcome.combine(outcomes)
    counts = merged.counts
    yield dg.MaterializeResult(
        asset_key=asset_name,
        metadata={
            "source_file": merged.source_file,
            "source_sha256": merged.source_sha256,
            "contract_version": merged.contract_version,
            **{k: dg.MetadataValue.int(v) for k, v in counts.items()},
            "dagster/row_count": dg.MetadataValue.int(counts["accepted"]),
            "blocked": merged.blocked,
            "block_reason": "; ".join(merged.blocking_errors) or "none",
            "quarantined_by_reason": dg.MetadataValue.json(merged.quarantined_by_reason),
            "quarantine_sample": dg.MetadataValue.md(
                markdown_table(merged.quarantine.head(20)) if merged.result is not None and len(merged.quarantine) else "none"
            ),
        },
    )
    yield from _results(asset_name, merged)


@dg.asset(
    name="raw_applications",
    partitions_def=DAILY_PARTITIONS,
    group_name=GROUP_INGEST,
    owners=[OWNER_DATA],
    kinds={"python", "duckdb"},
    code_version="2",
    pool=WAREHOUSE_POOL,
    check_specs=_ingest_checks("raw_applications", blocks_the_day=True),
    description=(
        "Credit applications received on the day, as the source system delivered them, after the "
        "applications data contract: good rows are kept in raw.applications, rows that broke the "
        "contract go to raw.applications_quarantine with a reason, repeated rows to "
        "raw.applications_duplicates pointing at the row kept."
    ),
)
def raw_applications(context: dg.AssetExecutionContext, keel_home: KeelHomeResource, warehouse: WarehouseResource):
    yield from _materialize(context, "applications", "raw_applications", keel_home, warehouse)


@dg.asset(
    name="raw_outcomes",
    partitions_def=DAILY_PARTITIONS,
    group_name=GROUP_INGEST,
    owners=[OWNER_DATA],
    kinds={"python", "duckdb"},
    code_version="2",
    pool=WAREHOUSE_POOL,
    check_specs=[
        *_ingest_checks("raw_outcomes", blocks_the_day=False),
        dg.AssetCheckSpec(
            CHECK_OUTCOMES_LINKED,
            asset="raw_outcomes",
            description="Every outcome names an application keel received; one that does not joins no decision and is left "
            "out of monitoring and training (WARN, naming file, row and id). Counts the outcomes that correct an earlier one.",
        ),
    ],
    description=(
        "Repayment outcomes (good or bad) that became known on the day, weeks after the application: "
        "the delayed labels the model is trained and monitored on. A broken outcomes file is held back "
        "(its rows quarantined) without stopping the day's decisions, which do not need the labels."
    ),
)
def raw_outcomes(context: dg.AssetExecutionContext, keel_home: KeelHomeResource, warehouse: WarehouseResource):
    from keel.outcome_links import outcome_links

    yield from _materialize(context, "outcomes", "raw_outcomes", keel_home, warehouse)
    with warehouse.connect() as con:
        links = outcome_links(con, list(context.partition_keys))
    message = links.message()
    span = days_named(context.partition_keys)
    linked = (
        f"{span}: each of {links.outcomes} outcomes names an application keel received"
        + (f" ({links.corrections} correct an earlier outcome)" if links.corrections else "")
        if links.outcomes
        else f"{span}: no outcome to link"
    )
    yield dg.AssetCheckResult(
        asset_key="raw_outcomes",
        check_name=CHECK_OUTCOMES_LINKED,
        passed=message is None,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "outcomes": dg.MetadataValue.int(links.outcomes),
            "unlinked": dg.MetadataValue.int(len(links.unlinked)),
            "corrections": dg.MetadataValue.int(links.corrections),
            "unlinked_rows": dg.MetadataValue.md(markdown_table(links.unlinked.head(100)) if len(links.unlinked) else "none"),
        },
        description=message or linked,
    )


@dg.asset_check(
    asset="raw_applications",
    name=CHECK_SOURCE_DELIVERED,
    description=(
        "The origination system delivered the day's applications file by the cutoff in its contract. "
        "Fails when a file is overdue (a source outage: that day is not scored until it lands); an "
        "empty, header-only or cut-off file is not an outage and is reported by contract_schema."
    ),
)
def source_delivered_on_time(context: dg.AssetCheckExecutionContext, keel_home: KeelHomeResource) -> dg.AssetCheckResult:
    from keel.freshness import assess_arrival, day_to_judge_in_range, latest_due_day, next_expected_day
    from keel.ingest import contract_for

    delivery = contract_for("applications").delivery
    folder = keel_home.home.landing_dir("applications")
    now = dt.datetime.now(dt.timezone.utc)
    if context.has_partition_key:
        # Inside a day's run: that day's file.
        day = parse_date(context.partition_key)
    elif context.has_partition_key_range:
        # A run over days (a backfill, the demo's history): theirs, not the next day's, which is not due to them.
        day = day_to_judge_in_range(folder, "applications", [parse_date(key) for key in context.partition_keys])
    else:
        # On the freshness schedule: the first day after the last one loaded, if it is due.
        loaded = sorted(context.instance.get_materialized_partitions(dg.AssetKey("raw_applications")))
        day = next_expected_day(loaded, parse_date(DAILY_PARTITIONS.start.strftime("%Y-%m-%d")))
        day = min(day, latest_due_day(now, delivery))
    arrival = assess_arrival(folder, "applications", day, now, delivery, rejected=keel_home.home.landing_rejected)
    return dg.AssetCheckResult(
        passed=not arrival.late,
        severity=dg.AssetCheckSeverity.ERROR,
        description=arrival.message,
        metadata={
            "day": day.isoformat(),
            "status": arrival.status,
            "due_at": arrival.due_at.isoformat(),
            "hours_late": dg.MetadataValue.float(round(max((now - arrival.due_at).total_seconds() / 3600, 0.0), 1) if arrival.late else 0.0),
        },
    )
