"""Launching keel's jobs on the Dagster instance under KEEL_HOME, and reading back what they did.

The CLI goes through Dagster (never around it), so every run it starts shows
in the UI with its logs, materializations and checks. Runs execute in this
process by default (fast for the CLI); `executor="multiprocess"` runs each step
in its own process, as runs launched from the UI do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster._core.definitions.reconstruct import ReconstructableRepository
from dagster._core.events import RunFailureReason
from dagster._core.utils import make_new_run_id

from keel.forkserver import start_forkserver
from keel.home import REPO_ROOT, KeelHome
from keel.run_recovery import release_abandoned_runs

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


class RunFailed(RuntimeError):
    """A Dagster run did not succeed; the message says which step and why."""

    def __init__(self, message: str, run_id: str):
        super().__init__(message)
        self.run_id = run_id


@dataclass
class RunOutcome:
    run_id: str
    success: bool
    materializations: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)  # "asset:check" -> {passed, severity, description}
    failure: str | None = None
    interrupted: bool = False  # stopped by an interrupt to the process running it (Ctrl-C, SIGTERM)
    interrupted_step: str | None = None  # the step it stopped, if one was under way


class RunInterrupted(KeyboardInterrupt):
    """The run `execute` started was stopped by Ctrl-C (or SIGTERM) to this process, and Dagster ended it failed.

    Dagster turns the interrupt into a failed step and a failed run and
    returns as from any failed run, so a loop over days went on: a `keel run`
    of several days, or `keel demo`, started the next day after Ctrl-C. As a
    KeyboardInterrupt it stops whatever called, as Ctrl-C does without
    Dagster; `rerun` is for the caller to say how to do again what it stopped.
    """

    def __init__(self, outcome: RunOutcome, job_name: str, partition: str | None):
        self.outcome, self.job_name, self.partition = outcome, job_name, partition
        self.rerun: str | None = None
        of = f"{job_name} for {partition}" if partition else job_name
        during = f" during {outcome.interrupted_step}" if outcome.interrupted_step else ""
        super().__init__(f"the run of {of} stopped{during} and is marked failed")


@contextlib.contextmanager
def run_output_kept_in_its_logs():
    """Keep what a run prints on stdout (dbt's output, from any process) off the terminal.

    Each step's output is captured in the run's logs (the UI's stdout of the
    step), so the terminal shows keel's own lines and a step's stderr, and
    the CLI's stdout carries only its result (one JSON object with --json);
    dbt's 40 lines a day buried the day's summary and checks.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as nowhere:
            os.dup2(nowhere.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


# Told each step as a run starts it: (step key, steps started so far, steps the run plans).
StepProgress = Callable[[str, int, int], None]

# How often a followed run's events are read: a step starts at most a few times a second.
FOLLOW_EVERY_S = 0.25


class _RunFollower:
    """Reads a run's step starts from the instance while it goes and tells `on_step` of each.

    The run may not exist yet when following starts (`find_run` returns its
    id once it does). It reads through an instance of its own, in a thread,
    so it never waits on the running job's storage lock; what it tells is for
    people watching, so a failure to read or to tell ends the following, not
    the run.
    """

    def __init__(self, home: KeelHome, find_run: Callable[[dg.DagsterInstance], str | None], on_step: StepProgress):
        self._home, self._find_run, self._on_step = home, find_run, on_step
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="keel-run-follower", daemon=True)
        self._run_id: str | None = None
        self._steps_planned: int | None = None
        self._cursor: str | None = None
        self._steps_started = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._finished.set()
        self._thread.join()

    def _follow(self) -> None:
        instance = dg.DagsterInstance.from_config(str(self._home.dagster_home))
        try:
            while not self._finished.wait(FOLLOW_EVERY_S):
                self._read(instance)
        except Exception:  # noqa: BLE001 - progress is a courtesy; the run and its result are unaffected
            pass
        finally:
            instance.dispose()

    def _read(self, instance: dg.DagsterInstance) -> None:
        if self._run_id is None:
            self._run_id = self._find_run(instance)
            if self._run_id is None:
                return
        if self._steps_planned is None:
            run = instance.get_run_by_id(self._run_id)
            if run is None or run.execution_plan_snapshot_id is None:
                return
            self._steps_planned = len(instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id).step_keys_to_execute)
        page = instance.get_records_for_run(self._run_id, cursor=self._cursor, of_type=dg.DagsterEventType.STEP_START)
        self._cursor = page.cursor
        for record in page.records:
            self._steps_started += 1
            self._on_step(record.event_log_entry.step_key or "", self._steps_started, max(self._steps_planned, self._steps_started))


@contextlib.contextmanager
def _followed(home: KeelHome, find_run: Callable[[dg.DagsterInstance], str | None], on_step: StepProgress | None) -> Iterator[None]:
    if on_step is None:
        yield
        return
    follower = _RunFollower(home, find_run, on_step)
    follower.start()
    try:
        yield
    finally:
        follower.stop()


def instance_for(home: KeelHome) -> dg.DagsterInstance:
    home.ensure()
    home.export_env()
    return dg.DagsterInstance.from_config(str(home.dagster_home))


def run_under_way(instance: dg.DagsterInstance, day: str, job_name: str | None = None) -> dg.RunRecord | None:
    """The newest run of the day partition `day` (of `job_name`, or of any job) not finished yet: queued, starting,
    running or being canceled."""
    from keel.status import UNFINISHED

    statuses = [dg.DagsterRunStatus(status) for status in UNFINISHED]
    records = instance.get_run_records(filters=dg.RunsFilter(job_name=job_name, tags={"dagster/partition": day}, statuses=statuses), limit=1)
    return records[0] if records else None


def load_definitions() -> dg.Definitions:
    # definitions.py sits at the repository root (workspace.yaml loads it from there).
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import definitions  # noqa: PLC0415 - imported once, when a run is needed

    return definitions.defs


def _metadata_value(value: Any) -> Any:
    return getattr(value, "value", value)


def read_run(instance: dg.DagsterInstance, run_id: str) -> RunOutcome:
    """Materializations, check results and the first failure of a finished run."""
    run = instance.get_run_by_id(run_id)
    outcome = RunOutcome(run_id=run_id, success=bool(run and run.status == dg.DagsterRunStatus.SUCCESS))
    run_failure = last_engine_message = None
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.step_materialization_data.materialization
            key = materialization.asset_key.to_user_string()
            outcome.materializations[key] = {k: _metadata_value(v) for k, v in materialization.metadata.items()}
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            data = event.asset_check_evaluation_data
            key = f"{data.asset_key.to_user_string()}:{data.check_name}"
            outcome.checks[key] = {
                "passed": data.passed,
                "severity": data.severity.value if data.severity else None,
                "description": data.description,
            }
        elif event.event_type == dg.DagsterEventType.STEP_FAILURE and outcome.failure is None:
            user = event.step_failure_data.user_failure_data
            detail = (user.description if user and user.description else None) or failure_detail(event.step_failure_data.error)
            outcome.failure = f"{event.step_key}: {detail.splitlines()[0] if detail else 'failed'}"
            if detail == INTERRUPTED:
                outcome.interrupted_step = event.step_key
        elif event.event_type == dg.DagsterEventType.RUN_FAILURE:
            run_failure = run_failure_reason(entry.message, last_engine_message)
            # What Dagster's executor records when the process running it was interrupted (a run
            # marked failed from outside, as keel.run_recovery does, records no data at all).
            failure_data = event.event_specific_data
            outcome.interrupted = getattr(failure_data, "failure_reason", None) == RunFailureReason.UNEXPECTED_TERMINATION
        elif event.event_type == dg.DagsterEventType.ENGINE_EVENT:
            last_engine_message = entry.message
    if outcome.failure is None and not outcome.success:
        outcome.failure = INTERRUPTED if outcome.interrupted else run_failure
    return outcome


# What Dagster's run failure says when something outside the run marked it failed: the event before it says why.
MARKED_FAILED_FROM_OUTSIDE = "This run has been marked as failed from outside the execution context."


def run_failure_reason(message: str | None, engine_message_before: str | None) -> str | None:
    """Why a run failed outside its steps, in one line: keel's reason (keel.run_recovery) or what Dagster's code
    server saw (its worker killed by a signal), not Dagster's "marked as failed from outside"."""
    if message == MARKED_FAILED_FROM_OUTSIDE and engine_message_before:
        message = engine_message_before.removeprefix("[DagsterApiServer] ")
    return message.removeprefix("keel: ") if message else None


# What Dagster raises in a step whose process is interrupted; its message is empty.
INTERRUPTED_ERROR = "DagsterExecutionInterruptedError"
INTERRUPTED = "interrupted (Ctrl-C, SIGTERM or a request to terminate the run)"


def failure_detail(error) -> str:
    """What went wrong in a failed step, in the words of the error that started it.

    Dagster wraps an exception raised in an asset in its own ("Error occurred
    while executing op ...") with the asset's exception as the cause; that
    wrapper says only where, so the innermost cause is reported, by its class
    and message.
    """
    if error is None:
        return "failed"
    while error.cause is not None:
        error = error.cause
    message = (error.message or "").strip()
    name = error.cls_name or ""
    if name == INTERRUPTED_ERROR:
        return INTERRUPTED
    # The message starts with the class, module-qualified outside builtins ("pandas.errors.MergeError: ...").
    head, _, rest = message.partition(": ")
    if name and head.endswith(name) and " " not in head:
        message = f"{name}: {rest}" if rest else name
    elif name:
        message = f"{name}: {message}" if message else name
    return message or "failed"


# Dagster's console logger in CLI runs: nothing; every event is still stored and shown in the UI.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def execute(
    job_name: str,
    home: KeelHome,
    *,
    partition_key: str | None = None,
    partition_range: tuple[str, str] | None = None,
    asset_names: Sequence[str] | None = None,
    tags: dict[str, str] | None = None,
    executor: str = "in_process",
    on_step: StepProgress | None = None,
) -> RunOutcome:
    """Run a job (or a subset of its assets) for a partition or range; wait for it to finish.

    `on_step` is told each step as the run starts it (for a progress bar).
    """
    instance = instance_for(home)
    # A run whose process was killed keeps the warehouse pool's slot: this run would wait for it forever.
    release_abandoned_runs(instance)
    run_tags = dict(tags or {})
    if partition_range is not None:
        run_tags[RANGE_START_TAG], run_tags[RANGE_END_TAG] = partition_range
    selection = [dg.AssetKey(name) for name in asset_names] if asset_names else None
    if executor == "in_process":
        job = load_definitions().resolve_job_def(job_name)
        # Step logs stay in the run (the UI shows them); the caller prints what
        # went wrong from the run's events (a blocked day is not a stack trace).
        run_id = make_new_run_id()
        with run_output_kept_in_its_logs(), _followed(home, lambda _instance: run_id, on_step):
            job.execute_in_process(
                instance=instance,
                partition_key=partition_key,
                asset_selection=selection,
                tags=run_tags,
                raise_on_error=False,
                run_config=QUIET_CONSOLE,
                run_id=run_id,
            )
    elif executor == "multiprocess":
        if partition_key is not None:
            run_tags["dagster/partition"] = partition_key
        # execute_job takes no run id: the run is the one of this job with these tags created since now.
        created_after = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)

        def this_run(reader: dg.DagsterInstance) -> str | None:
            found = reader.get_runs(dg.RunsFilter(job_name=job_name, tags=run_tags, created_after=created_after), limit=1)
            return found[0].run_id if found else None

        with run_output_kept_in_its_logs(), _followed(home, this_run, on_step):
            # The server's preload runs on the other core while this process loads the job and creates the run.
            start_forkserver()
            recon_job = ReconstructableRepository.for_file(
                str(REPO_ROOT / "definitions.py"), "defs", working_directory=str(REPO_ROOT)
            ).get_reconstructable_job(job_name)
            with dg.execute_job(
                recon_job,
                instance=instance,
                tags=run_tags,
                asset_selection=selection,
                raise_on_error=False,
                run_config=QUIET_CONSOLE,
            ) as result:
                run_id = result.run_id
    else:
        raise ValueError(f"unknown executor {executor!r}; expected in_process or multiprocess")
    outcome = read_run(instance, run_id)
    if outcome.interrupted:
        raise RunInterrupted(outcome, job_name, partition_key or (partition_range and "..".join(partition_range)))
    return outcome


def instance_has_history(home: KeelHome) -> bool:
    if not (home.dagster_home / "storage").exists() and not (home.dagster_home / "history").exists():
        return False
    instance = instance_for(home)
    return bool(instance.get_runs(limit=1))
