"""One landing file through its data contract: what is kept, quarantined, dropped, blocked.

This is the functional core behind the raw_applications and raw_outcomes
assets: it reads the day's file, applies the source's contract, checks that
every row belongs to the file's day and stores the rows in the warehouse's
raw schema. A large day is judged and stored a chunk of rows at a time
(keel.contracts.apply.ContractChunks), so the step holds the file as read and one
chunk's rows, not the whole day typed several times over.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from keel.contracts import Contract, ContractResult, apply_contract, load_contract
from keel.contracts.apply import ContractChunks
from keel.contracts.result import count_rows, merge_results
from keel import warehouse as wh
from keel.frames import on_days
from keel.home import REPO_ROOT
from keel.landing import LandingFileError, read_landing_file
from keel.landing_zone import days_named
from keel.read_ahead import read_ahead

CONTRACTS_DIR = REPO_ROOT / "policies" / "contracts"
# The column that places each row of a source on a day, and must match the file's day.
DAY_COLUMN = {"applications": "application_date", "outcomes": "outcome_date"}
CHECK_WRONG_DAY = "in_file_day"
CHECK_RECEIVED_ON_ANOTHER_DAY = "received_on_another_day"
# Rows judged and written at once: about 250 MB of a step's memory for applications.
INGEST_ROWS_PER_CHUNK = 250_000


def contract_for(source: str) -> Contract:
    return load_contract(CONTRACTS_DIR / f"{source}.yaml")


@dataclass
class IngestOutcome:
    """The fate of every row of one day's file (or of several days, combined)."""

    source_file: str
    source_sha256: str
    contract_version: str
    result: ContractResult | None
    file_problem: str | None = None  # empty_file, header_only, truncated_file, wrong_delimiter, unreadable
    file_problem_message: str | None = None
    blocking_errors: list[str] = field(default_factory=list)
    days: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return bool(self.blocking_errors)

    @property
    def counts(self) -> dict[str, int]:
        if self.result is None:
            return {"received": 0, "accepted": 0, "quarantined": 0, "duplicates": 0}
        return dict(self.result.counts)

    @property
    def accepted(self) -> pd.DataFrame:
        return self.result.accepted if self.result is not None else pd.DataFrame()

    @property
    def quarantine(self) -> pd.DataFrame:
        return self.result.quarantine if self.result is not None else pd.DataFrame()

    @property
    def duplicates(self) -> pd.DataFrame:
        return self.result.duplicates if self.result is not None else pd.DataFrame()

    @property
    def quarantined_by_reason(self) -> dict[str, int]:
        by_check = dict(self.result.quarantined_by_check) if self.result is not None else {}
        if self.file_problem and self.result is None:
            by_check[self.file_problem] = 0
        return by_check

    @property
    def what_was_read(self) -> str:
        """The file (or the days of a backfill) a check's result is about: its history in the UI names no day."""
        if len(self.days) > 1:
            return f"{len(self.days)} days, {days_named(self.days)}"
        if self.result is None and not self.source_sha256:
            return f"{days_named(self.days)}: no file landed"
        return self.source_file

    @classmethod
    def combine(cls, outcomes: list["IngestOutcome"]) -> "IngestOutcome":
        """Several days as one: counts add up, frames are stacked, any block blocks."""
        if len(outcomes) == 1:
            return outcomes[0]
        results = [o.result for o in outcomes if o.result is not None]
        merged = None
        if results:
            first = results[0]
            counts = {k: sum(r.counts.get(k, 0) for r in results) for k in first.counts}
            merged = replace(
                first,
                source_file=", ".join(r.source_file for r in results),
                accepted=pd.concat([r.accepted for r in results], ignore_index=True),
                quarantine=pd.concat([r.quarantine for r in results], ignore_index=True),
                duplicates=pd.concat([r.duplicates for r in results], ignore_index=True),
                added_columns=sorted({c for r in results for c in r.added_columns}),
                blocking_errors=[e for r in results for e in r.blocking_errors],
                counts=counts,
            )
        return cls(
            source_file=", ".join(o.source_file for o in outcomes),
            source_sha256=", ".join(o.source_sha256 for o in outcomes if o.source_sha256),
            contract_version=outcomes[0].contract_version,
            result=merged,
            file_problem=next((o.file_problem for o in outcomes if o.file_problem), None),
            file_problem_message="; ".join(o.file_problem_message for o in outcomes if o.file_problem_message) or None,
            blocking_errors=[e for o in outcomes for e in o.blocking_errors],
            days=[d for o in outcomes for d in o.days],
        )


def quarantine_rows_of_other_days(result: ContractResult, column: str, day: dt.date, key: str) -> ContractResult:
    """Rows dated on another day than the file's go to quarantine: a day's file holds that day only.

    `key` is the contract's key column, carried into each record.
    """
    accepted = result.accepted
    if result.blocked or accepted.empty or column not in accepted.columns:
        return result
    # Compared as datetimes: .dt.date made a Python date per row (0.2 s a million rows).
    wrong = ~on_days(pd.to_datetime(accepted[column], errors="coerce"), day, day)
    if not wrong.any():
        return result
    moved = accepted[wrong]
    records = pd.DataFrame(
        {
            "source_file": moved["source_file"].to_numpy(),
            "source_sha256": moved["source_sha256"].to_numpy(),
            "row_number": moved["source_row_number"].to_numpy(),
            key: moved[key].astype("str").to_numpy(),
            "column": column,
            "check": CHECK_WRONG_DAY,
            "value_found": moved[column].astype("str").to_numpy(),
            "reason": [
                f"{f} row {n}: column {column} expected {day} (the file's day), found {v}; "
                "send the row in the file of its own day"
                for f, n, v in zip(moved["source_file"], moved["source_row_number"], moved[column].astype("str"))
            ],
            "raw_row_hash": moved["raw_row_hash"].to_numpy(),
        }
    )
    quarantine = pd.concat([result.quarantine, records.reindex(columns=result.quarantine.columns)], ignore_index=True) if len(result.quarantine.columns) else records
    # In row order, as the contract's own records are: the same wherever a file's chunks fall.
    quarantine = quarantine.sort_values("row_number", kind="stable", ignore_index=True)
    kept = accepted[~wrong].reset_index(drop=True)
    counts = count_rows(kept, quarantine, result.duplicates, result.counts["received"])
    return replace(result, accepted=kept, quarantine=quarantine, counts=counts)


# Of a day's applications (`day_rows`: a relation with the provenance columns), those whose id another
# day's stored rows hold, with the first such day; the parameter is the day.
REPEATED_APPLICATIONS_SQL = """
select d.source_file, d.source_sha256, d.source_row_number, d.application_id, d.raw_row_hash,
       min(e.partition_date) as other_day,
       arg_min(e.source_file, e.partition_date) as other_file,
       arg_min(e.source_row_number, e.partition_date) as other_row
from {day_rows} d
join raw.applications e on e.application_id = d.application_id and e.partition_date <> $day
group by all
order by d.source_row_number
"""


def repeated_application_records(repeats: pd.DataFrame) -> pd.DataFrame:
    """Quarantine records (keel.contracts.quarantine.quarantine_columns) of applications whose id another day's file delivered first."""
    return pd.DataFrame(
        {
            "source_file": repeats["source_file"].to_numpy(),
            "source_sha256": repeats["source_sha256"].to_numpy(),
            "row_number": repeats["source_row_number"].to_numpy(),
            "application_id": repeats["application_id"].to_numpy(),
            "column": "application_id",
            "check": CHECK_RECEIVED_ON_ANOTHER_DAY,
            "value_found": repeats["application_id"].to_numpy(),
            "reason": [
                f"{f} row {n}: column application_id expected an application not received on another day, found {a}, "
                f"already received on {d} ({of} row {orow}); an application is decided once: send a changed "
                "application under a new id"
                for f, n, a, d, of, orow in zip(
                    repeats["source_file"], repeats["source_row_number"], repeats["application_id"],
                    repeats["other_day"], repeats["other_file"], repeats["other_row"],
                )
            ],
            "raw_row_hash": repeats["raw_row_hash"].to_numpy(),
        }
    )


def with_rows_moved_to_quarantine(result: ContractResult, records: pd.DataFrame) -> ContractResult:
    """`result` after rows it had accepted (and stored) were quarantined with `records` (one per row)."""
    if records.empty:
        return result
    quarantine = pd.concat([result.quarantine, records.reindex(columns=result.quarantine.columns)], ignore_index=True) if len(result.quarantine.columns) else records
    quarantine = quarantine.sort_values("row_number", kind="stable", ignore_index=True)
    moved = len(records)
    counts = {**result.counts, "accepted": result.counts["accepted"] - moved, "quarantined": result.counts["quarantined"] + moved}
    return replace(result, quarantine=quarantine, counts=counts)


def quarantine_applications_received_on_other_days(con, result: ContractResult, day: str) -> ContractResult:
    """Move the day's stored applications whose id another day's file already delivered to the quarantine.

    An application is decided once. The same id in a second day's file is a
    resubmission, or a source sending a row again under another date: deciding
    it again would give one id two decisions, two review cases and two ledger
    rows, and broke the feature mart's one-row-per-application key, failing
    the whole day. The row stored first stands; the repeat is quarantined,
    naming the day, file and row the id came in first.
    """
    stored = "(select * from raw.applications where partition_date = $day)"
    repeats = con.execute(REPEATED_APPLICATIONS_SQL.format(day_rows=stored), {"day": day}).df()
    if repeats.empty:
        return result
    con.execute(
        "delete from raw.applications where partition_date = ? and source_row_number in (select unnest(?::bigint[]))",
        [day, [int(n) for n in repeats["source_row_number"]]],
    )
    return with_rows_moved_to_quarantine(result, repeated_application_records(repeats))


def ingest_file_into(con, path: Path, source: str, day: dt.date, rows_per_chunk: int = INGEST_ROWS_PER_CHUNK) -> IngestOutcome:
    """Read `path`, apply the source's contract and store the day's rows; bad data is reported, never raised.

    Accepted rows replace the day's in raw.<source>, written a chunk at a time
    in one transaction, or for a file of over a million rows staged and moved
    in together (keel.warehouse.replace_rows_in_frames; a blocked file leaves
    them as they were); the day's
    quarantined and duplicate rows replace theirs (store_outcome). The
    outcome has the counts, the quarantine and the duplicates of the whole
    file; its accepted frame is empty, the rows being in the warehouse.
    """
    contract = contract_for(source)
    try:
        landed = read_landing_file(path)
    except LandingFileError as problem:
        outcome = IngestOutcome(
            source_file=path.name,
            source_sha256=problem.sha256 or "",
            contract_version=contract.version,
            result=None,
            file_problem=problem.kind,
            file_problem_message=str(problem),
            blocking_errors=[str(problem)],
            days=[day.isoformat()],
        )
        store_outcome(con, source, day.isoformat(), outcome)
        return outcome
    chunks = ContractChunks(landed.frame, contract, path.name, landed.sha256, rows_per_chunk)
    judged: list[ContractResult] = []

    def accepted_rows():
        for result in chunks.results():
            result = quarantine_rows_of_other_days(result, DAY_COLUMN[source], day, contract.key)
            judged.append(replace(result, accepted=_no_rows(result.accepted)))
            yield result.accepted.assign(partition_date=day.isoformat())

    if chunks.blocked:
        judged = list(chunks.results())
    else:
        # The next chunk is judged against the contract in a thread while this one is inserted.
        accepted = read_ahead(accepted_rows())
        wh.replace_rows_in_frames(con, "raw", source, accepted, "partition_date", [day.isoformat()], expected_rows=len(landed.frame))
    result = merge_results(judged)
    if source == "applications" and not chunks.blocked:
        result = quarantine_applications_received_on_other_days(con, result, day.isoformat())
    outcome = IngestOutcome(
        source_file=path.name,
        source_sha256=landed.sha256,
        contract_version=contract.version,
        result=result,
        file_problem=landed.problem,
        file_problem_message=landed.problem_message,
        blocking_errors=list(result.blocking_errors),
        days=[day.isoformat()],
    )
    _store_held_back(con, source, day.isoformat(), outcome)
    return outcome


def _no_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame`'s columns and dtypes without its rows (an empty slice of Arrow-backed text would keep its buffers)."""
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in frame.dtypes.items()})


def store_outcome(con, source: str, day: str, outcome: IngestOutcome) -> None:
    """Write the day's accepted, quarantined and duplicate rows to raw.<source>[_quarantine|_duplicates].

    Each table's rows of the day are replaced, so a rerun of the day leaves
    one copy. A blocked day stores its quarantine (every row, with the
    blocking reason) and no accepted rows.
    """
    if outcome.result is None:
        if source != "applications" and not wh.table_exists(con, "raw", source):
            # Nothing landed yet on a new instance: an empty table, so that the
            # staging models reading it build (and find no rows) instead of failing.
            empty = _empty_result(source)
            wh.replace_rows(con, "raw", source, empty.accepted.assign(partition_date=day), "partition_date", [day])
        return
    if not outcome.blocked:
        wh.replace_rows(con, "raw", source, outcome.accepted.assign(partition_date=day), "partition_date", [day])
    _store_held_back(con, source, day, outcome)


def _store_held_back(con, source: str, day: str, outcome: IngestOutcome) -> None:
    """The day's quarantined and duplicate rows, each table's rows of the day replaced."""
    quarantine = outcome.quarantine.assign(partition_date=day, source=source)
    duplicates = outcome.duplicates.assign(partition_date=day, source=source)
    wh.replace_rows(con, "raw", f"{source}_quarantine", quarantine, "partition_date", [day])
    wh.replace_rows(con, "raw", f"{source}_duplicates", duplicates, "partition_date", [day])


def _empty_result(source: str) -> ContractResult:
    contract = contract_for(source)
    frame = pd.DataFrame({spec.name: pd.Series([], dtype="str") for spec in contract.columns})
    return apply_contract(frame, contract, source_file="none", source_sha256="")


def nothing_landed(source: str, day: dt.date) -> IngestOutcome:
    """A day with no file: for outcomes this just means no label became known that day."""
    return IngestOutcome(source_file="none", source_sha256="", contract_version=contract_for(source).version, result=None, days=[day.isoformat()])
