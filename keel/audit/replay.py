"""`keel replay DATE`: run a past day again from its landing file and prove the same decisions come out.

The ledger records, for each decision of the day, the landing file's sha256,
the raw and feature row hashes, the model, policy and contract versions, the
score, the reasons and the route. Replay builds a scratch KEEL_HOME with
exactly those inputs — the landing file (checked against its recorded
sha256), the recorded model versions' artifacts (checked by their hash when
loaded), the control store as it stands with the champion alias moved to
the recorded champion and the challenger alias to the challenger that
decided a rollout share of the day, or to none — runs the day through the real daily job there, and compares the
scratch ledger with the recorded one column by column.

Compared: everything that describes the decision. Not compared: the Dagster
run ids (a replay is a new run) and the code version (reported beside the
result: a replay under newer code that still matches is the point of a
regression check; one that differs names the columns).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from keel import warehouse as wh
from keel.control_store import ControlStore
from keel.home import KeelHome
from keel.ledger_store import current_rows
from keel.models.artifacts import ModelStore, sha256_of

NOT_COMPARED = ("batch_seq", "run_ids", "code_version")
CHAMPION = "champion"
CHALLENGER = "challenger"


class ReplayError(RuntimeError):
    """The day cannot be replayed as recorded; the message says which input is missing or changed."""


@dataclass
class ReplayResult:
    day: str
    match: bool
    rows_recorded: int
    rows_replayed: int
    recorded_versions: dict
    differences: list[dict] = field(default_factory=list)
    missing_rows: list[str] = field(default_factory=list)
    extra_rows: list[str] = field(default_factory=list)
    code_version_recorded: list[str] = field(default_factory=list)
    code_version_replayed: list[str] = field(default_factory=list)
    replay_run_ids: list[str] = field(default_factory=list)
    scratch_home: str | None = None

    def to_dict(self) -> dict:
        return {key: value for key, value in self.__dict__.items()}


def recorded_rows(con, day: str) -> pd.DataFrame:
    rows = current_rows(con, "decision", day)
    if rows.empty:
        raise ReplayError(f"the ledger has no decisions for {day}: nothing to replay")
    return rows


def _single(rows: pd.DataFrame, column: str, day: str) -> str:
    values = sorted(set(rows[column].dropna()) - {""})
    if len(values) != 1:
        raise ReplayError(f"{day}: expected one recorded {column}, found {values or 'none'}")
    return values[0]


def _copy_control_store(source: Path, target: Path) -> None:
    # The online backup API copies a consistent snapshot even while a writer is active (WAL mode).
    from keel.backup import snapshot_sqlite

    target.parent.mkdir(parents=True, exist_ok=True)
    snapshot_sqlite(source, target)


def models_of_day(rows: pd.DataFrame, challenger_share: float, day: str) -> tuple[str | None, str | None]:
    """(champion, challenger) that decided the day's recorded rows; challenger None when it decided none.

    Each ledger row names the model whose score routed it: the challenger's
    for the applications the policy's rollout share gives it, the champion's
    for the rest. Which applications those are is fixed by their ids and the
    share (keel.decisioning.in_rollout), so the ledger and the policy say
    which version was which.
    """
    from keel.decisioning import in_rollout

    named = rows["model_version"].fillna("").astype(str).to_numpy()
    rollout = in_rollout(rows["application_id"], challenger_share)
    champions = sorted(set(named[~rollout]) - {""})
    in_share = sorted(set(named[rollout]) - {""})
    if len(champions) > 1 or len(in_share) > 1:
        raise ReplayError(f"{day}: expected one champion and at most one challenger recorded, found {champions} and, in the rollout share, {in_share}")
    champion = champions[0] if champions else None
    challenger = in_share[0] if in_share and in_share[0] != champion else None
    if champion is None and challenger is not None:
        # Every application fell in the share (a share of 1, or a tiny day): the challenger decided the day alone.
        return challenger, None
    return champion, challenger


def prepare_scratch(home: KeelHome, scratch: KeelHome, day: str, rows: pd.DataFrame) -> dict:
    """Put the day's recorded inputs into `scratch`; returns the recorded versions."""
    from keel.decisioning import current_policy

    source_file = _single(rows, "source_file", day)
    source_sha256 = _single(rows, "source_sha256", day)
    versions = {
        "source_file": source_file,
        "source_sha256": source_sha256,
        "policy_version": _single(rows, "policy_version", day),
        "contract_version": _single(rows, "contract_version", day),
    }
    if "/" in source_file or source_file.startswith("."):
        raise ReplayError(f"{day}: recorded source file {source_file!r} is not a plain file name")
    landed = home.landing_dir("applications") / source_file
    if not landed.exists():
        raise ReplayError(f"{day}: the landing file {landed} is gone; restore it from backup to replay the day")
    found = sha256_of(landed.read_bytes())
    if found != source_sha256:
        raise ReplayError(f"{day}: {source_file} has changed since it was decided: expected sha256 {source_sha256}, found {found}")
    scratch.ensure()
    shutil.copyfile(landed, scratch.landing_dir("applications") / source_file)
    _copy_applications_received_elsewhere(home, scratch, day)

    _check_in_force(versions, day)
    model_version, challenger_version = models_of_day(rows, current_policy().rollout.challenger_share, day)
    versions.update(model_version=model_version, challenger_version=challenger_version)
    _copy_control_store(home.control_store, scratch.control_store)
    store = ControlStore(scratch.control_store)
    for version in filter(None, (model_version, challenger_version)):
        _copy_artifact(home, scratch, store, version, day)
    if model_version and store.current_alias(CHAMPION) != model_version:
        store.move_alias(CHAMPION, model_version, by="keel-replay", reason=f"replay of {day} with the model recorded for it")
    # The challenger that decided a share of the day, or none: a challenger set since must not decide here.
    # (A challenger on the champion's own version scores nothing: keel model set-challenger.)
    wanted = challenger_version or model_version
    if wanted and store.current_alias(CHALLENGER) not in (None, wanted):
        store.move_alias(CHALLENGER, wanted, by="keel-replay", reason=f"replay of {day} with the challenger recorded for it (or none)")
    return versions


def _copy_artifact(home: KeelHome, scratch: KeelHome, store: ControlStore, version: str, day: str) -> None:
    record = store.get_model_version(version)
    if record is None:
        raise ReplayError(f"{day}: model version {version} is not in the registry")
    artifact = ModelStore(home.models).path_for(record["artifact_sha256"])
    if not artifact.exists():
        raise ReplayError(f"{day}: the artifact of model {version} ({artifact.name}) is missing from {home.models}")
    Path(scratch.models).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(artifact, Path(scratch.models) / artifact.name)


def _copy_applications_received_elsewhere(home: KeelHome, scratch: KeelHome, day: str) -> None:
    """The other days' rows of the ids the day's contract quarantined as received on another day.

    That check looked beyond the day's file, at the applications stored for
    other days; the scratch home gets exactly the rows it found, so the replay
    quarantines the same repeats instead of deciding them.
    """
    from keel.ingest import CHECK_RECEIVED_ON_ANOTHER_DAY

    with wh.connect(home.warehouse, read_only=True) as con:
        if not (wh.table_exists(con, "raw", "applications_quarantine") and wh.table_exists(con, "raw", "applications")):
            return
        found = wh.fetch_one(
            con,
            'select count(*) from raw.applications_quarantine where partition_date = ? and "check" = ?',
            [day, CHECK_RECEIVED_ON_ANOTHER_DAY],
        )[0]
    if not found:
        return
    with wh.connect(scratch.warehouse) as con:
        con.execute("attach ? as recorded (read_only)", [str(home.warehouse)])
        try:
            con.execute("create schema if not exists raw")
            con.execute(
                "create table raw.applications as select * from recorded.raw.applications "
                "where partition_date <> ? and application_id in ("
                '  select value_found from recorded.raw.applications_quarantine where partition_date = ? and "check" = ?)',
                [day, day, CHECK_RECEIVED_ON_ANOTHER_DAY],
            )
        finally:
            con.execute("detach recorded")


def _check_in_force(versions: dict, day: str) -> None:
    """The policy and contract files in force must be the recorded versions: their content is read from policies/."""
    from keel.decisioning import current_policy
    from keel.ingest import contract_for

    policy, contract = current_policy().version, contract_for("applications").version
    if policy != versions["policy_version"]:
        raise ReplayError(
            f"{day} was decided under policy {versions['policy_version']}, policies/credit_policy.yaml is now {policy}: "
            "check out the commit of that policy version to replay the day"
        )
    if contract != versions["contract_version"]:
        raise ReplayError(
            f"{day} was ingested under contract {versions['contract_version']}, policies/contracts/applications.yaml is now "
            f"{contract}: check out the commit of that contract version to replay the day"
        )


def run_scratch_day(scratch: KeelHome, day: str) -> dict:
    """The day through the real daily job in the scratch home (a separate process: its own KEEL_HOME).

    With the multiprocess executor, as the schedule's and sensors' runs are:
    the executor's forkserver imports the libraries of the later steps
    (dbt's runner, Great Expectations, the model code) on the other core
    while the earlier ones work, where in one process each step imports its
    own in turn.
    """
    keel = str(Path(sys.executable).with_name("keel"))
    env = {**os.environ, "KEEL_HOME": str(scratch.root), "DAGSTER_HOME": str(scratch.dagster_home)}
    env.pop("KEEL_WAREHOUSE", None)
    command = [keel, "run", "--date", day, "--executor", "multiprocess", "--json"]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    try:
        summary = json.loads(completed.stdout)
    except json.JSONDecodeError:
        raise ReplayError(f"the replay run of {day} failed before reporting: {completed.stderr.strip().splitlines()[-1:]}") from None
    if completed.returncode != 0:
        raise ReplayError(f"the replay run of {day} failed: {summary.get('failure')}")
    return summary


def compare(recorded: pd.DataFrame, replayed: pd.DataFrame) -> tuple[list[dict], list[str], list[str]]:
    """(differing cells, applications recorded but not replayed, applications replayed but not recorded)."""
    columns = [c for c in recorded.columns if c not in NOT_COMPARED and c in replayed.columns]
    left = recorded.set_index("application_id")
    right = replayed.set_index("application_id")
    missing = sorted(set(left.index) - set(right.index))
    extra = sorted(set(right.index) - set(left.index))
    both = sorted(set(left.index) & set(right.index))
    differences = []
    for column in columns:
        if column == "application_id":
            continue
        a = left.loc[both, column].astype("str")
        b = right.loc[both, column].astype("str")
        for application_id in a.index[a.to_numpy() != b.to_numpy()]:
            differences.append({"application_id": application_id, "column": column, "recorded": a[application_id], "replayed": b[application_id]})
    return differences, missing, extra


def replay_day(home: KeelHome, day: str, scratch_root: Path, progress: Callable[[str], None] = lambda _phase: None) -> ReplayResult:
    """`day` decided again in a scratch home with its recorded versions, compared row by row; `progress` told each phase."""
    progress("reading the recorded decisions")
    with wh.connect(home.warehouse, read_only=True) as con:
        recorded = recorded_rows(con, day)
    scratch = KeelHome(scratch_root)
    progress("a scratch home with the recorded model, policy and contract")
    versions = prepare_scratch(home, scratch, day, recorded)
    progress("the day through the daily job in the scratch home")
    summary = run_scratch_day(scratch, day)
    progress("comparing")
    with wh.connect(scratch.warehouse, read_only=True) as con:
        replayed = current_rows(con, "decision", day)
    differences, missing, extra = compare(recorded, replayed)
    return ReplayResult(
        day=day,
        match=not (differences or missing or extra),
        rows_recorded=len(recorded),
        rows_replayed=len(replayed),
        recorded_versions=versions,
        differences=differences,
        missing_rows=missing,
        extra_rows=extra,
        code_version_recorded=sorted(set(recorded["code_version"])),
        code_version_replayed=sorted(set(replayed["code_version"])),
        replay_run_ids=list(summary.get("run_ids") or []),
        scratch_home=str(scratch.root),
    )
