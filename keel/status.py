"""What needs a person today, judged from the state a KEEL_HOME is in.

The operator's first look of the day (`keel status`): is yesterday's source
in, was every landed day decided, did a run fail, is a check failing at
ERROR, are rows held back by the contract (applications without a
decision, outcomes monitoring lacks), are cases waiting past their review
SLA. Each finding that needs a person says what to do next; the rest of
the picture (the champion, the policy in force, the last day's counts, the
review queue, the ledger's last batch, each job's last run) is there to
judge it by. No run is started and no state changed: the warehouse is
opened read-only, Dagster's instance and the control store are only read
(a home that does not exist yet gets its folders and an empty instance, as
with every command).

The judging (`days_waiting`, `needs_attention`) is plain functions over
facts; `gather` collects the facts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path

from keel.alerts import ASK_THE_SOURCE, RESEND_THE_FILE, RUN_THE_JOB_AGAIN, WORK_THE_QUEUE, run_the_day_again

# A file the landing sensor has not acted on yet: its 30 s interval, the
# 10 s settle rule and the run's queueing. Past this, nothing is coming.
SENSOR_GRACE_SECONDS = 180

# A day's state in `days_waiting`.
RUNNING = "running"  # a run has it now
LANDING = "landing"  # landed moments ago; the landing sensor will start its run
NOT_STARTED = "not_started"  # landed long enough ago and no run took it
FAILED = "failed"  # its latest run failed for another reason
BLOCKED = "blocked"  # the contract refused the file as a whole (its run failed on that)
UNDECIDED = "undecided"  # taken in, or its latest run succeeded, and nothing decided (a run of only some of its assets)
# A decided day's state, when it needs one: its earlier decisions stand meanwhile.
RELANDING = "relanding"  # a file with other content landed moments ago; the landing sensor will decide it again
CHANGED = "changed"  # a file with other content landed after its latest run started, and no run has taken it in
RERUN_FAILED = "rerun_failed"  # its latest run failed (or its resent file was blocked)
# The states whose next step is a run of the day, nothing to fix first.
RUN_IS_NEXT = (NOT_STARTED, UNDECIDED, CHANGED)

# The job Dagster's UI runs when assets are materialized from their pages (Dagster's IMPLICIT_ASSET_JOB_NAME):
# a day's assets materialized there count as that day's run, as the daily job's do.
UI_ASSET_JOB = "__ASSET_JOB"

# Held-back rows of days this close to the last decided day are raised; older ones are counted in the picture only
# (the source was asked, or never will be: `keel quarantine` still lists them).
HELD_BACK_RAISED_DAYS = 7

# Dagster run statuses (their .value) of a run that has not finished.
UNFINISHED = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "MANAGED", "CANCELING")


@dataclass(frozen=True)
class DayRun:
    """The latest run of a day's daily job, as far as the day's state needs it."""

    run_id: str
    status: str  # DagsterRunStatus.value
    failure: str | None = None
    block_reason: str | None = None
    started_at: float | None = None  # epoch s; None before it started


@dataclass(frozen=True)
class Attention:
    """One finding that needs a person: what it is and what to do."""

    kind: str  # outage, day_failed, day_blocked, day_not_started, day_undecided, day_changed, day_rerun_failed, rows_held_back, failed_check, overdue_review, job_failed
    message: str
    next_step: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Facts:
    """What `needs_attention` judges; `gather` reads it from a home."""

    now: dt.datetime
    warehouse_read: bool = True  # False when a run held it: the days cannot be judged
    landed: dict[str, float] = field(default_factory=dict)  # application day -> its file's modification time (epoch s)
    decided: set[str] = field(default_factory=set)
    taken_in: set[str] = field(default_factory=set)  # days with rows in raw.applications
    day_runs: dict[str, DayRun] = field(default_factory=dict)  # the latest run of each day read back
    resent: set[str] = field(default_factory=set)  # decided days whose landed file's content is not what was taken in
    source: dict | None = None  # the next expected day's arrival: day, status, late, message
    last_day_failed_checks: list[dict] = field(default_factory=list)  # the latest decided day's run: check, severity, description
    last_decided_day: str | None = None
    last_day_report: str | None = None  # its monitoring report, if written
    held_back: list[dict] = field(default_factory=list)  # keel.held_back.held_back_by_day of each source (+ taken_in_under)
    contract_in_force: str | None = None  # the applications contract's version in policies/contracts/
    review_overdue: int = 0
    review_waiting: int = 0
    oldest_due_by: str | None = None
    job_runs: dict[str, dict] = field(default_factory=dict)  # job -> its latest run: run_id, status, failure, ended_at


def _decided_day_state(run: DayRun | None, resent: bool, modified_at: float, now: float) -> dict | None:
    """A decided day's state when it needs a run or waits for one (None when it does not)."""
    if run is None or run.status in UNFINISHED:
        return None
    if run.status != "SUCCESS":
        return {"state": RERUN_FAILED, "reason": run.block_reason or run.failure or f"run {run.status.lower()}"}
    if resent:
        return {"state": RELANDING if now - modified_at < SENSOR_GRACE_SECONDS else CHANGED}
    return None


def resend_candidates(facts: Facts) -> list[str]:
    """Decided days whose file was modified after their latest run started: only their content can tell a resend from a touch."""
    return sorted(
        day
        for day in facts.decided & facts.landed.keys()
        if (run := facts.day_runs.get(day)) and run.status == "SUCCESS" and run.started_at is not None and facts.landed[day] > run.started_at
    )


def days_waiting(facts: Facts) -> list[dict]:
    """The landed application days that need a run or wait for one, each with its state and, when known, why.

    An undecided day waits; so does a decided one whose file changed after its
    latest run started (a source's resend: the landing sensor decides it
    again) or whose latest run failed. Days taken in but never decided before
    the first decided day are the labelled history a first model learned
    from (`keel demo`): not waiting.
    """
    if not facts.warehouse_read:
        return []
    first_decided = min(facts.decided) if facts.decided else None
    now = facts.now.timestamp()
    waiting = []
    for day in sorted(facts.landed):
        run = facts.day_runs.get(day)
        entry = {"date": day, "run_id": run.run_id if run else None, "landed_s_ago": round(now - facts.landed[day])}
        if day in facts.decided:
            state = _decided_day_state(run, day in facts.resent, facts.landed[day], now)
            if state:
                waiting.append({**entry, **state})
            continue
        if day in facts.taken_in and (first_decided is None or day < first_decided):
            continue
        # A file landed after the day's last finished run started (a blocked day's resend) is the one waiting.
        landed_since = run is not None and run.status not in UNFINISHED and run.started_at is not None and facts.landed[day] > run.started_at
        if run is None and day in facts.taken_in:  # by a run older than those read back
            entry["state"] = UNDECIDED
        elif run is None or landed_since:
            entry["state"] = LANDING if now - facts.landed[day] < SENSOR_GRACE_SECONDS else NOT_STARTED
        elif run.status in UNFINISHED:
            entry["state"] = RUNNING
        elif run.block_reason:  # the run fails on the contract's blocking check
            entry.update(state=BLOCKED, reason=run.block_reason)
        elif run.status == "SUCCESS":
            entry["state"] = UNDECIDED
        else:
            entry.update(state=FAILED, reason=run.failure or f"run {run.status.lower()}")
        waiting.append(entry)
    return waiting


def held_back_to_raise(facts: Facts, waiting: list[dict]) -> list[dict]:
    """The held-back rows of days up to HELD_BACK_RAISED_DAYS before the last decided day (or the newest such day).

    A blocked application day, or a decided day whose rerun was blocked, is
    raised as such: its rows are all held back because its file was refused.
    """
    if not facts.held_back:
        return []
    anchor = facts.last_decided_day or max(entry["date"] for entry in facts.held_back)
    since = (dt.date.fromisoformat(anchor) - dt.timedelta(days=HELD_BACK_RAISED_DAYS)).isoformat()
    refused = {day["date"] for day in waiting if day["state"] in (BLOCKED, RERUN_FAILED)}
    return [
        entry
        for entry in facts.held_back
        if entry["date"] >= since and not (entry["source"] == "applications" and entry["date"] in refused)
    ]


def _held_back_attention(entry: dict, contract_in_force: str | None = None) -> Attention:
    """`entry`'s rows raised; a day taken in under another contract than the one in force may take them in if run again."""
    checks = ", ".join(f"{check} {rows}" for check, rows in entry["rows_by_check"].items())
    date, source = entry["date"], entry["source"]
    noun = ("application" if source == "applications" else "outcome") + ("" if entry["rows"] == 1 else "s")
    what = f"{noun} held back, " + ("without a decision" if source == "applications" else "labels monitoring lacks")
    option = "" if source == "applications" else " --source outcomes"
    resend = (
        f"`keel quarantine{option} --date {date} --export held_back.csv` gives the rows as received with their problems; "
        "the source sends a corrected file for the day, which takes them in"
    )
    under = entry.get("taken_in_under")
    if under and contract_in_force and under != contract_in_force:
        resend = (
            f"the day was taken in under contract {under} and {contract_in_force} is in force: `keel contract dry-run` shows "
            f"whether `keel run --date {date}` takes them in now; if not, {resend}"
        )
    return Attention("rows_held_back", f"{date}: {entry['rows']} {what} ({entry['source_file']}: {checks})", resend)


def _ago(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days ago"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} h ago"
    return f"{max(seconds, 0) / 60:.0f} min ago"


def needs_attention(facts: Facts) -> list[Attention]:
    """Every finding that needs a person, most urgent first: the source, the days, the checks, the reviews, the other jobs."""
    found: list[Attention] = []
    waiting = days_waiting(facts)
    if facts.source and facts.source.get("late"):
        found.append(Attention("outage", facts.source["message"], ASK_THE_SOURCE))
    for day in waiting:
        date, state = day["date"], day["state"]
        if state == FAILED:
            found.append(Attention("day_failed", f"{date}: its run {day['run_id']} failed: {day['reason']}", run_the_day_again(date)))
        elif state == BLOCKED:
            found.append(Attention("day_blocked", f"{date}: blocked: {day['reason']}", RESEND_THE_FILE))
        elif state == NOT_STARTED:
            found.append(
                Attention(
                    "day_not_started",
                    f"{date}: its file landed {_ago(day['landed_s_ago'])} and no run has taken it in",
                    f"`keel run --date {date}`, and check that the daemon runs (`make run` or `keel serve`)",
                )
            )
        elif state == UNDECIDED:
            by = f"its latest run {day['run_id']} succeeded" if day["run_id"] else "its applications were taken in"
            found.append(Attention("day_undecided", f"{date}: {by} and nothing was decided", f"`keel run --date {date}`"))
        elif state == CHANGED:
            found.append(
                Attention(
                    "day_changed",
                    f"{date}: a file with other content landed {_ago(day['landed_s_ago'])}, after its run {day['run_id']} started, "
                    "and no run has taken it in; the day's decisions are from the file before",
                    f"`keel run --date {date}` decides it again (the ledger keeps both), and check that the daemon runs",
                )
            )
        elif state == RERUN_FAILED:
            found.append(
                Attention(
                    "day_rerun_failed",
                    f"{date}: its latest run {day['run_id']} failed: {day['reason']}; the decisions of its earlier run stand",
                    f"fix the cause (a blocked file: the source resends it), then `keel run --date {date}`",
                )
            )
    found += [_held_back_attention(entry, facts.contract_in_force) for entry in held_back_to_raise(facts, waiting)]
    for check in facts.last_day_failed_checks:
        if (check.get("severity") or "ERROR") == "ERROR":
            first_line = (check.get("description") or "").strip().splitlines()[:1]
            found.append(
                Attention(
                    "failed_check",
                    f"{facts.last_decided_day}: check {check['check']} failed" + (f": {first_line[0]}" if first_line else ""),
                    "read the check in the UI (the asset's Checks tab)"
                    + (f" and the day's monitoring report, {facts.last_day_report}" if facts.last_day_report else ""),
                )
            )
    if facts.review_overdue:
        found.append(
            Attention(
                "overdue_review",
                f"{facts.review_overdue} of the {facts.review_waiting} cases waiting for a reviewer are past their SLA",
                WORK_THE_QUEUE,
            )
        )
    waiting_dates = {day["date"] for day in waiting}
    for job, run in sorted(facts.job_runs.items()):
        if run.get("status") == "FAILURE" and run.get("partition") not in waiting_dates:  # a waiting day's failure is said above
            found.append(
                Attention(
                    "job_failed",
                    f"the last {job} run" + (f" of {run['partition']}" if run.get("partition") else "") + f" {run['run_id']} failed: {run.get('failure') or 'see its logs'}",
                    RUN_THE_JOB_AGAIN,
                )
            )
    return found


# How long `gather` waits for a run holding the warehouse before showing the rest without it.
WAREHOUSE_WAIT_SECONDS = 5.0
# Runs read back from the instance: enough for every day a month of schedules, sensors and retries touched.
RECENT_RUNS = 500


def _resent(files: dict[str, Path], days: list[str], taken_in_from: dict[str, set[str]]) -> set[str]:
    """Those of `days` whose landed file's sha256 is not that of the file their rows were taken in from."""
    from keel.landing_watch import file_sha256

    return {day for day in days if file_sha256(files[day]) not in taken_in_from.get(day, set())}


DECIDED_DAYS_SQL = """
select strftime(application_date, '%Y-%m-%d') as day, count(*) as decided,
       count(*) filter (where route = 'approve') as approve, count(*) filter (where route = 'decline') as decline,
       count(*) filter (where route = 'review') as review, count(*) filter (where decided_by = ?) as by_fallback,
       min(model_version) as model_version, max(model_version) as last_model_version, max(policy_version) as policy_version
from decisioning.decisions group by 1 order by 1
"""


def _no_warehouse_picture() -> dict:
    """What `_warehouse_picture` gives for a home without a warehouse (or one a run held)."""
    return {
        "days": {}, "taken_in_from": {}, "held_back": [], "taken_in_under": {},
        "review": {"waiting": 0, "overdue": 0, "oldest_due_by": None}, "ledger": None, "monitoring": None,
    }


# The contract version each of the given application days' decisions were taken in under (the latest batch's).
TAKEN_IN_UNDER_SQL = """
select ledger_day, arg_max(contract_version, batch_seq) from audit.decision_ledger
where event_type = 'decision' and ledger_day in (select unnest(?::varchar[]))
group by 1
"""


def _warehouse_picture(con, now: dt.datetime) -> dict:
    """Decided days with their counts, days taken in with the sha256 of the files they came from, the rows held back,
    the review queue's waiting and overdue cases, the ledger's last batch."""
    from keel import warehouse as wh
    from keel.held_back import held_back_by_day
    from keel.landing_zone import SOURCES
    from keel.policy import DECIDED_BY_FALLBACK
    from keel.review.queue_view import due_time, overdue, waiting_by_day

    picture = _no_warehouse_picture()
    if wh.table_exists(con, "decisioning", "decisions"):
        for row in con.execute(DECIDED_DAYS_SQL, [DECIDED_BY_FALLBACK]).fetchall():
            day, decided, approve, decline, review, by_fallback, model, last_model, policy = row
            picture["days"][day] = {
                "decided": decided, "approve": approve, "decline": decline, "review": review, "decided_by_fallback": by_fallback,
                "model_version": model if model == last_model else f"{model}, {last_model}", "policy_version": policy,
            }
    if wh.table_exists(con, "raw", "applications"):
        rows = con.execute("select partition_date, list(distinct source_sha256) from raw.applications group by 1").fetchall()
        picture["taken_in_from"] = {day: set(sha256s) for day, sha256s in rows}
    picture["held_back"] = [entry for source in SOURCES for entry in held_back_by_day(con, source)]
    # The contract version is read for the days it is shown for: those with applications held back, and the last decided.
    days = sorted({e["date"] for e in picture["held_back"] if e["source"] == "applications"} | ({max(picture["days"])} if picture["days"] else set()))
    if days and wh.table_exists(con, "audit", "decision_ledger"):
        picture["taken_in_under"] = dict(con.execute(TAKEN_IN_UNDER_SQL, [days]).fetchall())
        for entry in picture["held_back"]:
            if entry["source"] == "applications":
                entry["taken_in_under"] = picture["taken_in_under"].get(entry["date"])
    waiting = waiting_by_day(con)
    if waiting:
        due = [w.due_by for w in waiting if w.due_by]
        picture["review"] = {
            "waiting": sum(w.cases for w in waiting),
            "overdue": sum(w.cases for w in waiting if overdue(w.due_by, False, now)),
            "oldest_due_by": min(due, key=due_time) if due else None,
        }
    if wh.table_exists(con, "audit", "ledger_batches"):
        row = con.execute(
            "select count(*) over (), ledger_day, event_type, row_count, digest, appended_at from audit.ledger_batches order by batch_seq desc limit 1"
        ).fetchone()
        if row:
            picture["ledger"] = {"batches": row[0], "last_day": row[1], "last_event_type": row[2], "last_rows": row[3], "last_digest": row[4], "appended_at": str(row[5])}
    if wh.table_exists(con, "monitoring", "daily_summary"):
        row = con.execute("select strftime(day, '%Y-%m-%d'), severity from monitoring.daily_summary order by day desc limit 1").fetchone()
        if row:
            picture["monitoring"] = {"day": row[0], "severity": row[1]}
    return picture


def held_back_totals(held_back: list[dict]) -> dict:
    """Per source: the rows held back and on how many days."""
    from keel.landing_zone import SOURCES

    return {
        source: {"rows": sum(e["rows"] for e in held_back if e["source"] == source), "days": len({e["date"] for e in held_back if e["source"] == source})}
        for source in SOURCES
    }


def _runs_picture(instance, facts: Facts) -> tuple[dict[str, DayRun], dict[str, dict], list[dict]]:
    """(the latest daily run of each day, each job's latest run, the failed checks of the last decided day's latest run).

    A finished run's events are read only where a landed day's state needs
    them: an undecided day's, and a decided day's failed rerun; none when
    the warehouse could not be read, since then no day is judged.
    """
    from keel.orchestrate import read_run
    from keel.pipeline import DAILY_JOB
    from keel.runs import summarize_day

    day_runs: dict[str, DayRun] = {}
    job_runs: dict[str, dict] = {}
    failed_checks: list[dict] = []
    seen_days: set[str] = set()
    for record in instance.get_run_records(limit=RECENT_RUNS):  # newest first
        run = record.dagster_run
        status = run.status.value
        if run.job_name not in job_runs:
            ended = dt.datetime.fromtimestamp(record.end_time, dt.timezone.utc).isoformat(timespec="seconds") if record.end_time else None
            job_runs[run.job_name] = {"run_id": run.run_id, "status": status, "partition": run.tags.get("dagster/partition"), "ended_at": ended, "failure": None}
            if status == "FAILURE":
                job_runs[run.job_name]["failure"] = read_run(instance, run.run_id).failure
        day = run.tags.get("dagster/partition")
        if not facts.warehouse_read or run.job_name not in (DAILY_JOB, UI_ASSET_JOB) or day is None or day in seen_days:
            continue
        seen_days.add(day)
        day_runs[day] = DayRun(run.run_id, status, started_at=record.start_time)
        if status in UNFINISHED or day not in facts.landed or (day in facts.decided and status == "SUCCESS"):
            if day == facts.last_decided_day and status == "SUCCESS":
                failed_checks = summarize_day(day, read_run(instance, run.run_id)).failed_checks
            continue
        summary = summarize_day(day, read_run(instance, run.run_id))
        day_runs[day] = DayRun(
            run.run_id, status, failure=summary.failure, block_reason=summary.block_reason if summary.blocked else None, started_at=record.start_time
        )
    return day_runs, job_runs, failed_checks


def _models_picture(home) -> dict:
    """The champion (since when, by whom), the challenger, and the versions registered since the champion last moved."""
    from keel.control_store import ControlStore
    from keel.model_lifecycle import gate_failures
    from keel.scoring import CHALLENGER, CHAMPION

    if not home.control_store.exists():
        return {"champion": None, "challenger": None, "champion_since": None, "champion_moved_by": None, "candidates": []}
    store = ControlStore(home.control_store)
    champion, challenger = store.current_alias(CHAMPION), store.current_alias(CHALLENGER)
    moves = store.alias_history(CHAMPION)
    last_move = moves[-1] if moves else None
    candidates = []
    for record in store.list_model_versions():
        if record["version"] in (champion, challenger) or (last_move and record["created_at"] <= last_move["at"]):
            continue
        approvals = store.approvals_for(record["version"])
        failures = gate_failures(record)
        state = "gate failed" if failures else ("approved, not promoted" if approvals else "waiting for approval")
        candidates.append({"version": record["version"], "created_at": record["created_at"], "state": state})
    return {
        "champion": champion,
        "challenger": challenger,
        "champion_since": last_move["at"] if last_move else None,
        "champion_moved_by": last_move["by"] if last_move else None,
        "candidates": candidates,
    }


def gather(home, now: dt.datetime | None = None) -> tuple[Facts, dict]:
    """(the facts `needs_attention` judges, the picture `keel status` shows) of `home`, read without writing."""
    from keel import warehouse as wh
    from keel.decisioning import current_policy
    from keel.freshness import assess_arrival, latest_due_day, next_expected_day
    from keel.ingest import contract_for
    from keel.landing_zone import landed_files
    from keel.orchestrate import instance_for

    now = now or dt.datetime.now(dt.timezone.utc)
    files = landed_files(home.landing_dir("applications"))
    facts = Facts(now=now, landed={day: path.stat().st_mtime for day, path in files.items()})
    warehouse = _no_warehouse_picture()
    if home.warehouse.exists():
        try:
            with wh.connect(home.warehouse, read_only=True, wait_seconds=WAREHOUSE_WAIT_SECONDS) as con:
                warehouse = _warehouse_picture(con, now)
        except wh.WarehouseBusy:
            facts.warehouse_read = False
    facts.decided, facts.taken_in = set(warehouse["days"]), set(warehouse["taken_in_from"])
    facts.held_back = warehouse["held_back"]
    contract = contract_for("applications")
    facts.contract_in_force = contract.version
    facts.last_decided_day = max(facts.decided) if facts.decided else None
    if facts.last_decided_day:
        # Where the monitoring step writes it (assets/monitoring.py).
        report = home.reports / "monitoring" / f"monitoring_{facts.last_decided_day}.html"
        facts.last_day_report = str(report) if report.exists() else None
    review = warehouse["review"]
    facts.review_waiting, facts.review_overdue, facts.oldest_due_by = review["waiting"], review["overdue"], review["oldest_due_by"]

    with instance_for(home) as instance:
        facts.day_runs, facts.job_runs, facts.last_day_failed_checks = _runs_picture(instance, facts)
    facts.resent = _resent(files, resend_candidates(facts), warehouse["taken_in_from"])

    known = facts.taken_in | facts.decided | {day for day in facts.day_runs if day in facts.landed}
    if known and facts.warehouse_read:
        delivery = contract.delivery
        first = dt.date.fromisoformat(min(known))
        day = min(next_expected_day(sorted(known), first), latest_due_day(now, delivery))
        arrival = assess_arrival(home.landing_dir("applications"), "applications", day, now, delivery, rejected=home.landing_rejected)
        facts.source = {"source": "applications", "date": day.isoformat(), "status": arrival.status, "late": arrival.late, "message": arrival.message}

    policy = current_policy()
    last = warehouse["days"].get(facts.last_decided_day) if facts.last_decided_day else None
    picture = dict(
        warehouse_busy=not facts.warehouse_read,
        home=str(home.root),
        now=now.isoformat(timespec="seconds"),
        models=_models_picture(home),
        policy={"in_force": policy.version, "last_day_decided_under": last["policy_version"] if last else None},
        contract={"in_force": contract.version, "last_day_taken_in_under": warehouse["taken_in_under"].get(facts.last_decided_day)},
        last_decided_day={"date": facts.last_decided_day, **last, "failed_checks": facts.last_day_failed_checks} if last else None,
        days_decided=len(facts.decided),
        days_waiting=days_waiting(facts) if facts.warehouse_read else None,
        source=facts.source,
        held_back=held_back_totals(facts.held_back) if facts.warehouse_read else None,
        review={"waiting": facts.review_waiting, "overdue": facts.review_overdue, "oldest_due_by": facts.oldest_due_by},
        monitoring=warehouse["monitoring"],
        ledger=warehouse["ledger"],
        last_runs=facts.job_runs,
    )
    return facts, picture
