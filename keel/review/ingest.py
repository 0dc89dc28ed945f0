"""Reviewers' inbox files into the warehouse, and the decision that stands for each application.

Two steps, each a plain function on a DuckDB connection:

  * `ingest_inbox` checks every file waiting in the inbox against the review
    queue (keel.review.inbox), appends its good lines to
    review.review_outcomes, writes its refused lines with their reasons to
    review/rejected/, and moves the file, bytes untouched, to
    review/processed/. It never rewrites a stored outcome: the table is
    append-only, one row per accepted reviewer decision (an amendment is a
    row of its own). `ingest_seq` numbers the files in the order they were
    taken in, so (ingest_seq, line_number) orders a case's decisions.
  * `refresh_final_decisions` rebuilds review.final_decisions for the days
    that need it: days decided since the last build, and days with new
    review outcomes. One row per decided application: automatic decisions as
    routed, reviewed cases with their reviewer's latest decision, the rest
    pending.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from keel import warehouse as wh
from keel.columns import APPLICATION_DATE, APPLICATION_ID, REVIEW_TAKEN_IN_ORDER
from keel.frames import merge_one_to_one
from keel.review.final_decisions import final_decisions
from keel.review.inbox import validate_inbox_file, write_rejections
from keel.review.inbox_listing import inbox_files

SCHEMA = "review"
OUTCOMES_TABLE = "review_outcomes"
FINAL_TABLE = "final_decisions"
STATE_TABLE = "final_decisions_state"
OUTCOME_COLUMNS: tuple[str, ...] = (
    APPLICATION_ID,
    APPLICATION_DATE,
    "decision",
    "reviewer",
    "reason",
    "reviewed_at",
    "amends",
    "source_file",
    "source_sha256",
    "line_number",
    "suggested_decision",
    "qa_sampled",
    "run_id",
    "ingest_seq",
)


@dataclass
class FileIngested:
    name: str
    sha256: str
    accepted: int
    rejected: int
    rejected_file: str | None


@dataclass
class InboxIngested:
    files: list[FileIngested] = field(default_factory=list)
    days: list[str] = field(default_factory=list)
    still_being_written: list[str] = field(default_factory=list)  # left in the inbox for a later run

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)


def _queue(con) -> pd.DataFrame:
    if not wh.table_exists(con, SCHEMA, "review_queue"):
        return pd.DataFrame(columns=[APPLICATION_ID, APPLICATION_DATE, "suggested_decision", "qa_sampled"])
    return con.execute(
        f"select {APPLICATION_ID}, cast({APPLICATION_DATE} as date) as {APPLICATION_DATE}, suggested_decision, qa_sampled "
        f"from {SCHEMA}.review_queue"
    ).df()


def _known_ids(con) -> set[str]:
    if not wh.table_exists(con, "decisioning", "decisions"):
        return set()
    return {row[0] for row in con.execute(f"select {APPLICATION_ID} from decisioning.decisions").fetchall()}


STORED_OUTCOMES_SQL = f"select * from {SCHEMA}.{OUTCOMES_TABLE} order by {', '.join(REVIEW_TAKEN_IN_ORDER)}"


def stored_outcomes(con) -> pd.DataFrame:
    """Every accepted review decision, in the order they were taken in (amendments after what they amend)."""
    if not wh.table_exists(con, SCHEMA, OUTCOMES_TABLE):
        return pd.DataFrame(columns=list(OUTCOME_COLUMNS))
    stored = con.execute(STORED_OUTCOMES_SQL).df()
    # Homes from before amendments have no `amends` column: their outcomes are all first decisions.
    amends = stored["amends"].fillna(False).astype(bool) if "amends" in stored.columns else False
    return stored.assign(amends=amends)


def _next_seq(con) -> int:
    if not wh.table_exists(con, SCHEMA, OUTCOMES_TABLE):
        return 1
    return int(wh.fetch_one(con, f"select coalesce(max(ingest_seq), 0) + 1 from {SCHEMA}.{OUTCOMES_TABLE}")[0])


def _move(path: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        # A file of the same name was processed before: keep both, the later one stamped.
        target = folder / f"{path.stem}.{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%f}{path.suffix}"
    shutil.move(str(path), str(target))


def ingest_inbox(con, inbox: Path, processed: Path, rejected: Path, run_id: str, now: float | None = None) -> InboxIngested:
    """Check and store every inbox file (with `now`, those not still being written); see the module docstring."""
    files = inbox_files(inbox, now)
    result = InboxIngested(still_being_written=sorted({p.name for p in inbox_files(inbox)} - {p.name for p in files}))
    if not files:
        return result
    queue = _queue(con)
    stored = stored_outcomes(con)
    decided = set(stored[APPLICATION_ID])
    # What each accepted decision is stored with: the case as queued or, for an amendment of a case its day's
    # re-decision took out of review, as it was when first reviewed.
    context_columns = [APPLICATION_DATE, "suggested_decision", "qa_sampled"]
    reviewed = stored.drop_duplicates(APPLICATION_ID, keep="last").set_index(APPLICATION_ID)[context_columns]
    queued = queue.set_index(APPLICATION_ID)[context_columns]
    context_by_id = pd.concat([queued, reviewed[~reviewed.index.isin(queued.index)]])
    known = _known_ids(con) | set(queue[APPLICATION_ID])
    seq = _next_seq(con)
    days: set[str] = set()
    for seq, path in enumerate(files, start=seq):
        checked = validate_inbox_file(path, set(queue[APPLICATION_ID]), known, decided)
        rejected_file = write_rejections(checked, rejected)
        accepted = checked.accepted
        if len(accepted):
            context = context_by_id.loc[accepted[APPLICATION_ID]]
            rows = accepted.assign(
                **{
                    APPLICATION_DATE: context[APPLICATION_DATE].to_numpy(),
                    "reviewed_at": pd.to_datetime(accepted["reviewed_at"], utc=True),
                    "suggested_decision": context["suggested_decision"].to_numpy(),
                    "qa_sampled": context["qa_sampled"].astype(bool).to_numpy(),
                    "run_id": run_id,
                    "ingest_seq": seq,
                }
            )[list(OUTCOME_COLUMNS)]
            wh.append_rows(con, SCHEMA, OUTCOMES_TABLE, rows)
            decided |= set(accepted[APPLICATION_ID])
            days |= {pd.Timestamp(d).date().isoformat() for d in rows[APPLICATION_DATE]}
        _move(path, processed)
        result.files.append(
            FileIngested(checked.source_file, checked.source_sha256, len(accepted), len(checked.rejected), str(rejected_file) if rejected_file else None)
        )
    result.days = sorted(days)
    return result


def _folded_through(con) -> int:
    """The last review-outcome batch folded into final_decisions (0 before the first build)."""
    if not wh.table_exists(con, SCHEMA, STATE_TABLE):
        return 0
    return int(wh.fetch_one(con, f"select coalesce(max(ingest_seq), 0) from {SCHEMA}.{STATE_TABLE}")[0])


def _routes_by_day(con, table: str) -> dict[str, tuple[int, int]]:
    """Per application day: how many applications, and an order-free fingerprint of their ids and routes."""
    rows = con.execute(
        f"select cast(cast({APPLICATION_DATE} as date) as varchar), count(*), bit_xor(hash({APPLICATION_ID} || ':' || route)) "
        f"from {table} group by 1"
    ).fetchall()
    return {day: (count, fingerprint) for day, count, fingerprint in rows}


def days_to_refresh(con) -> list[str]:
    """Decided days missing from final_decisions or decided again since (routes changed), and days with review
    outcomes not yet folded in."""
    if not wh.table_exists(con, "decisioning", "decisions"):
        return []
    seq = _folded_through(con)
    decided = _routes_by_day(con, "decisioning.decisions")
    decided_days = set(decided)
    # A day absent from final_decisions has no entry here, so it is stale like a day whose routes changed.
    final = _routes_by_day(con, f"{SCHEMA}.{FINAL_TABLE}") if wh.table_exists(con, SCHEMA, FINAL_TABLE) else {}
    stale: set[str] = {day for day, routes in decided.items() if final.get(day) != routes}
    if wh.table_exists(con, SCHEMA, OUTCOMES_TABLE):
        stale |= {
            str(row[0])
            for row in con.execute(
                f"select distinct cast({APPLICATION_DATE} as date) from {SCHEMA}.{OUTCOMES_TABLE} where ingest_seq > ?", [seq]
            ).fetchall()
        }
    return sorted(stale & decided_days)


def refresh_final_decisions(con, days: list[str] | None = None) -> pd.DataFrame:
    """Rebuild the final decisions of `days` (default: days_to_refresh); returns the rows written."""
    days = days_to_refresh(con) if days is None else days
    if not days:
        return pd.DataFrame()
    placeholders = ", ".join("cast(? as date)" for _ in days)
    decisions = con.execute(
        f"select {APPLICATION_ID}, cast({APPLICATION_DATE} as date) as {APPLICATION_DATE}, route, suggested_decision "
        f"from decisioning.decisions where cast({APPLICATION_DATE} as date) in ({placeholders}) order by {APPLICATION_ID}",
        days,
    ).df()
    outcomes = stored_outcomes(con)
    outcomes = outcomes.assign(reviewed_at=outcomes["reviewed_at"].astype("str")) if len(outcomes) else outcomes
    final = final_decisions(decisions, outcomes)
    rows = merge_one_to_one(decisions[[APPLICATION_ID, APPLICATION_DATE, "route"]], final, on=APPLICATION_ID)
    wh.replace_rows(con, SCHEMA, FINAL_TABLE, rows, APPLICATION_DATE, days)
    seq = int(outcomes["ingest_seq"].max()) if len(outcomes) else 0
    state = pd.DataFrame({"ingest_seq": [seq], "built_at": [dt.datetime.now(dt.timezone.utc).isoformat()], "days": [", ".join(days)]})
    wh.append_rows(con, SCHEMA, STATE_TABLE, state)
    return rows
