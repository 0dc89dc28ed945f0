"""What a change of a data contract would do, before it is merged.

A contract (policies/contracts/<source>.yaml) is versioned with the code: a
change is reviewed like code and, once it lands, judges every file taken in
from then on, and a day run again. What a reviewer needs beside the diff is
its consequence in rows: the last N landed files of the source are judged
again under the contract in force and under the candidate, with the same steps
the ingest takes (the contract, the file's day, and for applications an id
another day's file delivered first), and each row whose fate would change is
a flip: held back now and taken in after (a loosened check, the usual reason
for a change: a new category, a wider range), or taken in now and held back
after. Nothing is written: not the warehouse, not the landing folder.

Once the change is merged the candidate is the contract in force, and the
same comparison is made against what each day's run recorded (the raw rows,
quarantine and duplicates taken in from that very file): the days a run
again would change, and the rows it would take in.

The feature mart has checks of its own downstream (the expectation suite in
policies/expectations/): a value the candidate takes in and the suite does
not allow would block the day at feature_expectations, so the dry run names
those too, for the suite's columns the contract names alike.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from keel.alerts import run_days_command
from keel.contracts import Contract, ContractResult
from keel.contracts.apply import ContractChunks
from keel.contracts.checks import AMBIGUOUS_COLUMN, INCOMPATIBLE_TYPE, MISSING_REQUIRED_COLUMN
from keel.contracts.contract import ColumnSpec
from keel.contracts.result import merge_results
from keel.ingest import (
    DAY_COLUMN,
    INGEST_ROWS_PER_CHUNK,
    REPEATED_APPLICATIONS_SQL,
    quarantine_rows_of_other_days,
    repeated_application_records,
    with_rows_moved_to_quarantine,
)
from keel.landing.errors import LandingFileError
from keel.landing.landing_file import LandingFile
from keel.settings_diff import changed_settings

TAKEN_IN, HELD_BACK, DUPLICATE = "taken_in", "held_back", "duplicate"
FATE_COLUMNS = ["row_number", "key", "fate", "checks", "problems"]
# Flipped rows listed one by one (JSON and text); the counts are always whole.
ROWS_LISTED = 20

# A function that, given a day's accepted rows and the day, returns those whose
# id another day delivered first (keel.ingest.REPEATED_APPLICATIONS_SQL's columns): the ingest quarantines
# them after storing the day.
RepeatsLookup = Callable[[pd.DataFrame, str], pd.DataFrame]


def judge(landed: LandingFile, contract: Contract, source: str, day: dt.date, repeats: RepeatsLookup | None) -> ContractResult:
    """`landed` judged as the ingest judges it, under `contract`, and nothing stored."""
    chunks = ContractChunks(landed.frame, contract, landed.name, landed.sha256, INGEST_ROWS_PER_CHUNK)
    if chunks.blocked:
        return merge_results(list(chunks.results()))
    result = merge_results([quarantine_rows_of_other_days(r, DAY_COLUMN[source], day, contract.key) for r in chunks.results()])
    if source == "applications" and repeats is not None and not result.accepted.empty:
        result = with_rows_moved_to_quarantine(result, repeated_application_records(repeats(result.accepted, day.isoformat())))
    return result


def row_fates(result: ContractResult, key: str) -> pd.DataFrame:
    """One row per received row, by `row_number`: its `key`, `fate` (taken_in, held_back, duplicate), `checks` and `problems`.

    `checks` are "<column>: <check>" and `problems` the quarantine's reasons,
    one of each per failed check of a row held back.

    A row moved to quarantine after it was accepted (an id another day
    delivered) is held back, as it is once the ingest has run.
    """
    accepted = pd.DataFrame({"row_number": result.accepted["source_row_number"], "key": result.accepted[key].astype("object"), "fate": TAKEN_IN})
    duplicates = pd.DataFrame({"row_number": result.duplicates["row_number"], "key": result.duplicates[key].astype("object"), "fate": DUPLICATE})
    return _fates(accepted, duplicates, result.quarantine.rename(columns={key: "key"}) if len(result.quarantine) else None)


def _fates(accepted: pd.DataFrame, duplicates: pd.DataFrame, records: pd.DataFrame | None) -> pd.DataFrame:
    """FATE_COLUMNS from rows taken in and dropped (row_number, key, fate) and quarantine records (row_number, key, column, check, reason)."""
    fates = pd.concat([f for f in (accepted, duplicates) if len(f)] or [accepted], ignore_index=True)
    fates = fates.assign(row_number=fates["row_number"].astype("int64"), key=fates["key"].astype("object"))
    if records is not None:
        held = (
            records.assign(row_number=records["row_number"].astype("int64"), failed=[f"{c or 'row'}: {k}" for c, k in zip(records["column"], records["check"])])
            .groupby("row_number", sort=True)
            .agg(key=("key", "first"), checks=("failed", list), problems=("reason", list))
            .reset_index()
            .assign(fate=HELD_BACK)
        )
        fates = fates[~fates["row_number"].isin(held["row_number"])]
    nothing = [[] for _ in range(len(fates))]
    fates = fates.assign(checks=nothing, problems=nothing)
    if records is not None:
        fates = pd.concat([fates, held], ignore_index=True)
    return fates.sort_values("row_number", ignore_index=True)[FATE_COLUMNS]


# The checks that hold back a whole file (keel.contracts.checks): a day recorded with one of them was blocked.
FILE_CHECKS = (MISSING_REQUIRED_COLUMN, AMBIGUOUS_COLUMN, INCOMPATIBLE_TYPE)
# What the runs recorded of one file, by day and sha256: (its fates, their counts), or None when no run took it in.
RecordedLookup = Callable[[str, str], "tuple[pd.DataFrame, dict] | None"]


def recorded_in(con, source: str, key: str) -> RecordedLookup:
    """The lookup of what the runs recorded of a day's file in the warehouse's raw tables (read only)."""
    from keel import warehouse as wh

    tables = {name: wh.table_columns(con, "raw", name) for name in (source, f"{source}_quarantine", f"{source}_duplicates")}

    def rows(table: str, number: str, extra: str, day: str, sha256: str) -> pd.DataFrame:
        columns = tables[table]
        if not columns:
            return pd.DataFrame({name: [] for name in ("row_number", "key", "column", "check", "reason")[: 5 if extra else 2]})
        # A quarantine written before it had the key column names no key.
        keyed = f'"{key}"' if key in columns else "null"
        return con.execute(
            f"select {number} as row_number, {keyed} as key{extra} from raw.{table} where partition_date = ? and source_sha256 = ? order by 1",
            [day, sha256],
        ).df()

    def lookup(day: str, sha256: str) -> tuple[pd.DataFrame, dict] | None:
        taken = rows(source, "source_row_number", "", day, sha256)
        held = rows(f"{source}_quarantine", "row_number", ', "column", "check", reason', day, sha256)
        dropped = rows(f"{source}_duplicates", "row_number", "", day, sha256)
        if taken.empty and held.empty and dropped.empty:
            return None
        fates = _fates(taken.assign(fate=TAKEN_IN), dropped.assign(fate=DUPLICATE), held if not held.empty else None)
        blocking = held[held["check"].isin(FILE_CHECKS)] if not held.empty else held
        reasons = list(dict.fromkeys(blocking["reason"])) if not blocking.empty else []
        return fates, _counts(fates, blocked=bool(reasons), block_reasons=reasons)

    return lookup


def fate_counts(result: ContractResult, fates: pd.DataFrame) -> dict:
    return _counts(fates, blocked=result.blocked, block_reasons=result.blocking_errors)


def _counts(fates: pd.DataFrame, blocked: bool, block_reasons: list[str]) -> dict:
    counts = fates["fate"].value_counts()
    return {
        TAKEN_IN: int(counts.get(TAKEN_IN, 0)),
        HELD_BACK: int(counts.get(HELD_BACK, 0)),
        "duplicates": int(counts.get(DUPLICATE, 0)),
        "blocked": bool(blocked),
        "block_reason": "; ".join(block_reasons) or None,
    }


def flipped_rows(now: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """The rows whose fate differs: row_number, key, now, after, and the checks and problems of the side that holds it back."""
    both = now.merge(after, on="row_number", suffixes=("_now", "_after"), validate="one_to_one")
    flipped = both[both["fate_now"] != both["fate_after"]]
    # Held back after: what would hold it back. Otherwise: what holds it back now (or nothing, for a duplicate).
    held_after = flipped["fate_after"] == HELD_BACK
    return pd.DataFrame(
        {
            "row_number": flipped["row_number"].astype("int64").to_numpy(),
            "key": flipped["key_after"].where(flipped["key_after"].notna(), flipped["key_now"]).to_numpy(),
            "now": flipped["fate_now"].to_numpy(),
            "after": flipped["fate_after"].to_numpy(),
            "checks": flipped["checks_after"].where(held_after, flipped["checks_now"]).to_numpy(),
            "problems": flipped["problems_after"].where(held_after, flipped["problems_now"]).to_numpy(),
        }
    )


def contract_changes(in_force: Contract, candidate: Contract) -> dict[str, dict]:
    """Each setting whose value differs, by dotted name; columns by their name ("columns.job.categories")."""

    def settings(contract: Contract, other: Contract) -> dict:
        values = {name: value for name, value in dataclasses.asdict(contract).items() if name not in ("path", "sha256", "columns")}
        others = set(other.column_names)
        # A column only one side has is one setting ("added" / "removed"), not each of its fields.
        values["columns"] = {c.name: dataclasses.asdict(c) if c.name in others else describe_column(c) for c in contract.columns}
        return values

    return changed_settings(settings(in_force, candidate), settings(candidate, in_force))


def describe_column(spec: ColumnSpec) -> str:
    """A column in a phrase: "string, nullable, categories [a, b]"."""
    parts = [spec.type, "nullable" if spec.nullable else "not null", "required" if spec.required else "optional"]
    if spec.min is not None or spec.max is not None:
        parts.append(f"range {spec.min if spec.min is not None else '-inf'}..{spec.max if spec.max is not None else 'inf'}")
    if spec.categories is not None:
        parts.append(f"categories [{', '.join(spec.categories)}]" + (" (new ones reported)" if spec.new_categories == "report" else ""))
    if spec.pattern:
        parts.append(f"pattern {spec.pattern}")
    return ", ".join(parts)


def expectation_conflicts(in_force: Contract, candidate: Contract, suite: dict) -> list[dict]:
    """The feature suite's expectations a changed column of the candidate would let values through that they do not allow.

    Matched by column name: the suite's columns that dbt renames (a loan's
    `time` is the mart's `loan_term_months`) are not compared.
    """
    before = {c.name: c for c in in_force.columns}
    conflicts = []
    for spec in candidate.columns:
        if before.get(spec.name) == spec:
            continue
        for expectation in suite.get("expectations") or []:
            kwargs = expectation.get("kwargs") or {}
            if kwargs.get("column") != spec.name:
                continue
            let_through = _let_through(spec, expectation["type"], kwargs)
            if let_through:
                conflicts.append(
                    {
                        "column": spec.name,
                        "expectation": expectation["type"],
                        "severity": (expectation.get("meta") or {}).get("severity"),
                        "suite_allows": _suite_allows(expectation["type"], kwargs),
                        "candidate_lets_through": let_through,
                    }
                )
    return conflicts


def _let_through(spec: ColumnSpec, kind: str, kwargs: dict) -> str | None:
    if kind == "expect_column_values_to_be_in_set":
        if spec.categories is None or spec.new_categories == "report":
            return "values outside its categories"
        extra = [value for value in spec.categories if value not in kwargs.get("value_set", [])]
        return f"categories {extra}" if extra else None
    if kind == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        below = low is not None and (spec.min is None or spec.min < low)
        above = high is not None and (spec.max is None or spec.max > high)
        if below or above:
            return f"range {spec.min if spec.min is not None else '-inf'}..{spec.max if spec.max is not None else 'inf'}"
    if kind == "expect_column_values_to_not_be_null" and spec.nullable and "mostly" not in kwargs:
        return "nulls"
    return None


def _suite_allows(kind: str, kwargs: dict) -> str:
    if kind == "expect_column_values_to_be_in_set":
        return f"values in {kwargs.get('value_set')}"
    if kind == "expect_column_values_to_be_between":
        return f"values between {kwargs.get('min_value')} and {kwargs.get('max_value')}"
    return "no nulls"


@dataclasses.dataclass(frozen=True)
class LandedDay:
    date: str
    path: Path


def contract_flips(
    in_force: Contract,
    candidate: Contract,
    landed: list[LandedDay],
    repeats: RepeatsLookup | None,
    suite: dict,
    limit: int = ROWS_LISTED,
    progress: Callable[[str], None] = lambda _day: None,
    recorded: RecordedLookup | None = None,
) -> dict:
    """Judge each landed day's file under `in_force` and `candidate`; the rows whose fate would change, and why.

    With `recorded`, the fates now are those the day's run recorded rather
    than the contract in force's judgement: what running the day again would
    change (a day no run took its file in is named, not compared).
    """
    from keel.landing.read import read_landing_file

    source = in_force.name
    if candidate.name != source:
        raise ValueError(f"{candidate.path}: the candidate is a contract of source {candidate.name!r}, the one in force of {source!r}")
    if not landed:
        raise LookupError(f"no {source} files in the landing folder: nothing to judge again")
    days, flipped = [], []
    for number, day in enumerate(landed, start=1):
        progress(f"day {number} of {len(landed)}, {day.date}")
        try:
            file = read_landing_file(day.path)
        except LandingFileError as problem:
            # The same under any contract: the file yields no rows.
            days.append({"date": day.date, "source_file": day.path.name, "source_sha256": problem.sha256 or "", "rows": 0, "file_problem": str(problem)})
            continue
        date = dt.date.fromisoformat(day.date)
        fates, counts = {}, {}
        if recorded is not None:
            found = recorded(day.date, file.sha256)
            if found is None:
                days.append({"date": day.date, "source_file": file.name, "source_sha256": file.sha256, "rows": file.row_count, "not_taken_in": True})
                continue
            fates["now"], counts["now"] = found
        for side, contract in (("now", in_force), ("after", candidate)):
            if side in fates:
                continue
            # One side's judged rows at a time: a large day's typed frame is let go once its fates are taken.
            result = judge(file, contract, source, date, repeats)
            fates[side] = row_fates(result, contract.key)
            counts[side] = fate_counts(result, fates[side])
            del result
        day_flips = flipped_rows(fates["now"], fates["after"]).assign(date=day.date, source_file=file.name)
        flipped.append(day_flips)
        days.append(
            {
                "date": day.date,
                "source_file": file.name,
                "source_sha256": file.sha256,
                "rows": file.row_count,
                "now": counts["now"],
                "after": counts["after"],
                "taken_in": int(((day_flips["now"] == HELD_BACK) & (day_flips["after"] == TAKEN_IN)).sum()),
                "held_back": int(((day_flips["now"] == TAKEN_IN) & (day_flips["after"] == HELD_BACK)).sum()),
            }
        )
    rows = pd.concat(flipped, ignore_index=True) if flipped else flipped_rows(_no_fates(), _no_fates()).assign(date="", source_file="")
    held_back_after = Counter(check for checks in rows.loc[rows["after"] == HELD_BACK, "checks"] for check in checks)
    return {
        "source": source,
        "against": "recorded" if recorded is not None else "contract_in_force",
        "in_force": contract_record(in_force),
        "candidate": contract_record(candidate),
        "changed": contract_changes(in_force, candidate),
        "version_not_bumped": candidate.version == in_force.version and candidate.sha256 != in_force.sha256,
        "other_days_checked": repeats is not None or source != "applications",
        "days": days,
        "rows": int(sum(d["rows"] for d in days)),
        "flipped": int(len(rows)),
        "flips": dict(sorted(Counter(f"{a}->{b}" for a, b in zip(rows["now"], rows["after"])).items())),
        "days_to_run_again": [d["date"] for d in days if d.get("taken_in")],
        "held_back_by_check": dict(sorted(held_back_after.items())),
        "flipped_rows": [
            {
                "date": r.date, "source_file": r.source_file, "row_number": int(r.row_number), "key": r.key,
                "now": r.now, "after": r.after, "checks": list(r.checks), "problems": list(r.problems),
            }
            for r in rows.head(limit).itertuples(index=False)
        ],
        "downstream": expectation_conflicts(in_force, candidate, suite),
    }


def _no_fates() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype="int64" if name == "row_number" else "object") for name in FATE_COLUMNS})


def contract_record(contract: Contract) -> dict:
    return {"name": contract.name, "version": contract.version, "sha256": contract.sha256, "path": contract.path}


def repeats_in(con) -> RepeatsLookup:
    """The lookup of ids another day delivered first, over the warehouse's stored applications (read only)."""

    def lookup(accepted: pd.DataFrame, day: str) -> pd.DataFrame:
        con.register("accepted_today", accepted[["source_file", "source_sha256", "source_row_number", "application_id", "raw_row_hash"]])
        try:
            return con.execute(REPEATED_APPLICATIONS_SQL.format(day_rows="accepted_today"), {"day": day}).df()
        finally:
            con.unregister("accepted_today")

    return lookup


def dry_run(
    home, candidate_path: Path | None, days: int = 7, limit: int = ROWS_LISTED, progress: Callable[[str], None] = lambda _day: None, source: str = "applications"
) -> dict:
    """`keel contract dry-run`: the candidate contract in `candidate_path` against the one in force, over the last `days` landed files.

    Without a candidate, the contract in force against what each day's run
    recorded (of `source`): the rows a run of the day again would take in or
    hold back, as after a contract change was merged.
    """
    from keel import warehouse as wh
    from keel.contracts import load_contract
    from keel.ingest import contract_for
    from keel.landing_zone import SOURCES, find_landing_file, landed_files
    from keel.quality.expectations import FEATURE_SUITE, load_suite_config

    candidate = load_contract(candidate_path) if candidate_path is not None else None
    source = candidate.name if candidate is not None else source
    if source not in SOURCES:
        raise ValueError(f"{candidate_path or source}: {source!r} is not a source keel takes in; expected one of {', '.join(SOURCES)}")
    in_force = contract_for(source)
    candidate = candidate or in_force
    folder = home.landing_dir(source)
    # The day's one file, as the ingest finds it: a day with two (CSV and Parquet, say) is refused, naming both.
    landed = [LandedDay(day, find_landing_file(folder, source, dt.date.fromisoformat(day))) for day in sorted(landed_files(folder))[-days:]]
    suite = load_suite_config(FEATURE_SUITE) if source == "applications" else {}
    if not home.warehouse.exists():
        if candidate_path is None:
            raise LookupError(f"{home.warehouse}: no warehouse yet, so no run has recorded anything to compare the contract in force with")
        return contract_flips(in_force, candidate, landed, None, suite, limit, progress)
    with wh.connect(home.warehouse, read_only=True) as con:
        repeats = repeats_in(con) if source == "applications" and wh.table_exists(con, "raw", "applications") else None
        recorded = recorded_in(con, source, in_force.key) if candidate_path is None else None
        return contract_flips(in_force, candidate, landed, repeats, suite, limit, progress, recorded=recorded)


def contract_flips_text(result: dict) -> str:
    """What `keel contract dry-run` prints."""
    before, after, days = result["in_force"], result["candidate"], result["days"]
    compared = (
        f"contract {result['source']} {after['version']} in force against what the runs recorded"
        if result["against"] == "recorded"
        else f"contract {result['source']} {before['version']} -> {after['version']} ({after['path']})"
    )
    lines = [
        f"dry run: {compared} over {len(days)} {'day' if len(days) == 1 else 'days'} ({days[0]['date']} .. {days[-1]['date']}), "
        f"{result['rows']} rows: {result['flipped']} would change fate"
    ]
    if result["version_not_bumped"]:
        lines.append(f"  note: the content changed but the version is still {after['version']}: bump `version` so the loads can tell the two apart")
    if not result["changed"] and result["against"] != "recorded":
        lines.append("  no setting differs from the contract in force")
    lines += [f"  {name}: {change['from']!r} -> {change['to']!r}" for name, change in result["changed"].items()]
    lines += [f"  {pair}: {count}" for pair, count in result["flips"].items()]
    for day in days:
        if "file_problem" in day:
            lines.append(f"  {day['date']}  {day['source_file']}: {day['file_problem']} (under either contract)")
        elif day.get("not_taken_in"):
            lines.append(f"  {day['date']}  {day['source_file']}: no run has taken this file in (`keel run --date {day['date']}`)")
        elif day["now"] != day["after"]:
            lines.append(f"  {day['date']}  {day['source_file']}  now: {_fates_text(day['now'])}; after: {_fates_text(day['after'])}")
    if result["held_back_by_check"]:
        lines.append("  held back after, by check: " + ", ".join(f"{check} {n}" for check, n in result["held_back_by_check"].items()))
    listed = result["flipped_rows"]
    if listed:
        shown = f" (the first {len(listed)} of {result['flipped']})" if len(listed) < result["flipped"] else ""
        lines.append(f"  rows{shown}:")
        for row in listed:
            why = f" ({'; '.join(row['checks'])})" if row["checks"] else ""
            lines.append(f"    {row['date']} row {row['row_number']} {row['key'] or '(no key)'}: {row['now']} -> {row['after']}{why}")
    for conflict in result["downstream"]:
        blocks = "ERROR: it blocks the day" if conflict["severity"] == "error" else "WARN"
        lines.append(
            f"  downstream: the feature suite expects {conflict['column']} {conflict['suite_allows']} ({conflict['expectation']}, {blocks}); "
            f"the candidate lets through {conflict['candidate_lets_through']}: change policies/expectations/ with it"
        )
    if not result["other_days_checked"]:
        lines.append("  note: no applications stored yet, so ids another day delivered first were not looked up")
    if result["days_to_run_again"]:
        command = run_days_command(result["days_to_run_again"])
        lines.append(f"  {'run' if result['against'] == 'recorded' else 'merged, run'} each day with rows to take in again: {command}")
    if result["against"] == "recorded":
        lines.append("nothing was changed (a dry run)")
    else:
        lines.append("nothing was changed (a dry run): merged into policies/contracts/, the contract judges the files taken in after it")
    return "\n".join(lines)


def _fates_text(counts: dict) -> str:
    if counts["blocked"]:
        return f"blocked ({counts['block_reason']})"
    return f"{counts[TAKEN_IN]} taken in, {counts[HELD_BACK]} held back, {counts['duplicates']} duplicates"
