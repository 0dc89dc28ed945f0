"""Alerts: failing monitoring checks become incidents; each incident is announced once and starts a retraining.

The drift sensor (and `keel demo`, which runs without the daemon) reads the
results of the monitoring checks from Dagster's event log and hands them here
as CheckEvaluation records. This module decides, without Dagster:

  * which evaluations count: a check failing at ERROR severity (an alert level
    of policies/monitoring.yaml was crossed). WARN failures stay in the UI for
    people to look at; they page nobody;
  * what an incident is: per kind (drift or performance) it opens when the
    first of its checks fails at ERROR and closes when all of them pass (or
    only warn) again on a later day. An incident is announced once, however
    many days or ticks it lasts, and requests one retraining run;
  * what an alert says and where it goes: one JSON object, appended to a JSON
    Lines file and, when a webhook URL is configured, POSTed to it.

Each check is judged by its newest scoring day: a rerun of an older day does
not close or reopen anything. The state is a small JSON document that the
sensor keeps as its cursor.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import textwrap
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

DRIFT = "drift"
PERFORMANCE = "performance"
ERROR = "ERROR"
WARN = "WARN"

WEBHOOK_ENV = "KEEL_ALERT_WEBHOOK"
FILE_ENV = "KEEL_ALERT_FILE"
DEFAULT_ALERT_FILE_NAME = "alerts.jsonl"
WEBHOOK_TIMEOUT_SECONDS = 5.0

# The check metadata entry naming the scoring day a result judged (the checks are not partitioned).
SCORING_DAY_METADATA = "scoring_day"

# Run tags that tie a retraining run to the incident that asked for it. The
# sensor and the CLI both look for them before acting, so an incident the CLI
# already handled is not handled again by a sensor that starts later.
INCIDENT_TAG = "keel/incident"
TRIGGER_TAG = "keel/trigger"


@dataclass(frozen=True)
class CheckEvaluation:
    """One result of a monitoring check, as read from the event log."""

    record_id: int  # increases with the order in which checks were planned; breaks ties between reruns of a day
    check: str  # "asset:check_name"
    partition: str | None  # the scoring day
    passed: bool
    severity: str  # ERROR or WARN (Dagster's AssetCheckSeverity)
    run_id: str = ""
    features: tuple[str, ...] = ()
    description: str | None = None
    report: str | None = None

    @property
    def alerting(self) -> bool:
        return not self.passed and self.severity == ERROR


@dataclass
class Incident:
    """A stretch of days on which checks of one kind fail at alert level."""

    id: str  # "<kind>:<first day>", stable: the same event log always gives the same ids
    kind: str
    day: str  # the scoring day on which it opened
    checks: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)
    report: str | None = None
    last_day: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> Incident:
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


@dataclass
class IncidentState:
    """What the sensor remembers between ticks: each check's newest verdict and the open incidents."""

    checks: dict[str, dict] = field(default_factory=dict)  # check -> {partition, record_id, alerting}
    open: dict[str, dict] = field(default_factory=dict)  # kind -> Incident.to_dict()

    def to_dict(self) -> dict:
        return {"checks": self.checks, "open": self.open}

    @classmethod
    def from_dict(cls, data: Mapping | None) -> IncidentState:
        data = data or {}
        return cls(checks=dict(data.get("checks") or {}), open=dict(data.get("open") or {}))


@dataclass
class Advance:
    state: IncidentState
    opened: list[Incident]
    closed: list[Incident]


def _is_newer(evaluation: CheckEvaluation, seen: Mapping | None) -> bool:
    if seen is None:
        return True
    partition, seen_partition = evaluation.partition or "", seen.get("partition") or ""
    # ISO dates compare correctly as text.
    return partition > seen_partition or (partition == seen_partition and evaluation.record_id > seen.get("record_id", -1))


def advance(state: IncidentState, evaluations: Iterable[CheckEvaluation], kinds: Mapping[str, str]) -> Advance:
    """Fold new check results into the state; return the incidents that opened and closed.

    `kinds` maps each watched check ("asset:check_name") to its incident kind;
    evaluations of other checks are ignored. Results are applied in record
    order; a result for an older day than the check's newest is ignored.
    """
    checks = {name: dict(value) for name, value in state.checks.items()}
    open_incidents = {kind: Incident.from_dict(value) for kind, value in state.open.items()}
    opened: list[Incident] = []
    closed: list[Incident] = []
    for evaluation in sorted(evaluations, key=lambda e: e.record_id):
        kind = kinds.get(evaluation.check)
        if kind is None or not _is_newer(evaluation, checks.get(evaluation.check)):
            continue
        checks[evaluation.check] = {
            "partition": evaluation.partition,
            "record_id": evaluation.record_id,
            "alerting": evaluation.alerting,
        }
        alerting_now = [name for name, seen in checks.items() if kinds.get(name) == kind and seen["alerting"]]
        incident = open_incidents.get(kind)
        if evaluation.alerting:
            if incident is None:
                incident = Incident(id=f"{kind}:{evaluation.partition}", kind=kind, day=evaluation.partition or "")
                open_incidents[kind] = incident
                opened.append(incident)
            _merge(incident, evaluation)
        elif incident is not None and not alerting_now:
            closed.append(open_incidents.pop(kind))
    new_state = IncidentState(checks=checks, open={kind: incident.to_dict() for kind, incident in open_incidents.items()})
    return Advance(new_state, opened, closed)


def _merge(incident: Incident, evaluation: CheckEvaluation) -> None:
    """Add what a failing result says to its incident (features, checks, the newest day and report)."""
    if evaluation.check not in incident.checks:
        incident.checks.append(evaluation.check)
    incident.features = sorted(set(incident.features) | set(evaluation.features))
    if evaluation.description and evaluation.description not in incident.descriptions:
        incident.descriptions.append(evaluation.description)
    if evaluation.run_id and evaluation.run_id not in incident.run_ids:
        incident.run_ids.append(evaluation.run_id)
    incident.report = evaluation.report or incident.report
    incident.last_day = max(incident.last_day or "", evaluation.partition or "")


# --- the alert -------------------------------------------------------------------------------------


# Chat tools show `text` as one message: the details are cut at a word, whole in `details`.
TEXT_DETAIL_CHARS = 300


def shortened(details: str) -> str:
    """Details cut at a word to fit an alert's `text` line; the alert keeps them whole in `details`."""
    return textwrap.shorten(details, TEXT_DETAIL_CHARS, placeholder=" … (all in details)")


def build_alert(incident: Incident, retraining_job: str, now: dt.datetime | None = None) -> dict:
    """The alert of a newly opened incident: one JSON object, readable by people and machines.

    `text` is a one-line summary, the field chat webhooks (Slack, Teams,
    Mattermost) display.
    """
    raised_at = (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")
    what = {DRIFT: "data drift", PERFORMANCE: "model performance"}.get(incident.kind, incident.kind)
    features = f" in {', '.join(incident.features)}" if incident.features else ""
    return {
        "incident": incident.id,
        "kind": incident.kind,
        "day": incident.day,
        "severity": "alert",
        "checks": list(incident.checks),
        "features": list(incident.features),
        "details": list(incident.descriptions),
        "report": incident.report,
        "monitoring_run_ids": list(incident.run_ids),
        "retraining": {"job": retraining_job, "requested": True},
        "raised_at": raised_at,
        "text": (
            f"keel: {what} alert on {incident.day}{features}: "
            f"{shortened('; '.join(incident.descriptions))}. "
            + (f"Report: {incident.report}. " if incident.report else "")
            + f"Retraining requested ({retraining_job}); the candidate will not be promoted without approval."
        ),
    }


# The kinds of a failed run's alert.
RUN_FAILED = "run_failed"
DAY_BLOCKED = "day_blocked"

# What to do about a failed run: an alert says it in the words `keel status` uses.
RESEND_THE_FILE = "ask the source to resend the file; the landing sensor takes the new one in"
RUN_THE_JOB_AGAIN = "open the run in the UI; run the job again once fixed"


def run_days_command(days: Iterable[str]) -> str:
    """The one `keel run` command that runs `days` (YYYY-MM-DD), each its own run, oldest first."""
    return "keel run " + " ".join(f"--date {day}" for day in sorted(set(days)))


def run_the_day_again(day: str) -> str:
    return f"fix the cause, then `keel run --date {day}`"


def build_run_failure_alert(
    job: str,
    run_id: str,
    failure: str | None,
    run_url: str,
    day: str | None = None,
    block_reason: str | None = None,
    daily_job: bool = False,
    now: dt.datetime | None = None,
) -> dict:
    """The alert of a failed run: what failed, where to look, what to do next (the words of `keel status`).

    A day whose file the contract refused as a whole (`block_reason`) is the
    source's to fix; another failure of the daily job is fixed and the day
    run again; any other job's run is run again once fixed.
    """
    raised_at = (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")
    of_day = f" of {day}" if day else ""
    if block_reason:
        kind, what = DAY_BLOCKED, f"{day} blocked: {block_reason}"
        next_step = RESEND_THE_FILE
    else:
        kind, what = RUN_FAILED, f"the {job} run{of_day} failed: {failure or 'see its logs'}"
        next_step = run_the_day_again(day) if daily_job and day else RUN_THE_JOB_AGAIN
    return {
        "incident": f"run:{run_id}",
        "kind": kind,
        "day": day,
        "severity": "alert",
        "job": job,
        "run_id": run_id,
        "details": [block_reason or failure or "see its logs"],
        "run_url": run_url,
        "next_step": next_step,
        "raised_at": raised_at,
        "text": f"keel: {shortened(what)}. Next: {next_step}. Run: {run_url}",
    }


SOURCE_OUTAGE = "source_outage"
ASK_THE_SOURCE = "ask the source to deliver it; the landing sensor starts the day's run when it lands"
# Outage days an outage sensor's cursor remembers as alerted: far more than a source stays down.
OUTAGE_DAYS_REMEMBERED = 60
# A delivery check's result older than this says nothing about now (the schedule checks every hour).
OUTAGE_RESULT_MAX_AGE_SECONDS = 2 * 3600


def outage_to_alert(day: str, late: bool, checked_s_ago: float, alerted: list[str]) -> list[str] | None:
    """The alerted days after this delivery check, when `day` is an outage not alerted yet; None when nothing is to be sent.

    An outage is alerted once per day, however many hourly checks find it
    still late; the next day late is a new outage. A result from hours ago
    (a home whose daemon was down, or copied) is not alerted: the file may
    have come since, and the next hourly check will say.
    """
    if not late or day in alerted or checked_s_ago > OUTAGE_RESULT_MAX_AGE_SECONDS:
        return None
    return sorted({*alerted, day})[-OUTAGE_DAYS_REMEMBERED:]


def build_outage_alert(day: str, message: str, run_url: str | None, now: dt.datetime | None = None) -> dict:
    """The alert of a source's file overdue past its contract's cutoff (the delivery check's own message)."""
    raised_at = (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")
    return {
        "incident": f"{SOURCE_OUTAGE}:{day}",
        "kind": SOURCE_OUTAGE,
        "day": day,
        "severity": "alert",
        "details": [message],
        "run_url": run_url,
        "next_step": ASK_THE_SOURCE,
        "raised_at": raised_at,
        "text": f"keel: {shortened(message)} Next: {ASK_THE_SOURCE}.",
    }


REVIEW_OVERDUE = "review_overdue"
WORK_THE_QUEUE = "`keel review list` (OVERDUE first by age), then `keel review decide` or a sheet through `keel review import`"


def alert_line(alert: Mapping) -> str:
    """The alert as one log line."""
    return str(alert.get("text") or json.dumps(alert, sort_keys=True))


# --- where alerts go --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts are delivered: always appended to `file`, and POSTed to `webhook_url` when one is set."""

    file: Path
    webhook_url: str | None = None
    timeout_seconds: float = WEBHOOK_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, reports_dir: Path, environ: Mapping[str, str] | None = None) -> AlertSettings:
        """KEEL_ALERT_WEBHOOK (http or https URL) and KEEL_ALERT_FILE (default `reports_dir`/alerts.jsonl)."""
        environ = os.environ if environ is None else environ
        webhook = (environ.get(WEBHOOK_ENV) or "").strip() or None
        if webhook is not None:
            validate_webhook_url(webhook)
        file = Path(environ.get(FILE_ENV) or Path(reports_dir) / DEFAULT_ALERT_FILE_NAME)
        return cls(file=file, webhook_url=webhook)


def validate_webhook_url(url: str) -> str:
    """Only http(s) URLs with a host: a typo such as file:///etc/passwd must not be fetched."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ValueError(f"{WEBHOOK_ENV}: expected an http:// or https:// URL with a host, found {url!r}")
    return url


@dataclass(frozen=True)
class Delivery:
    file: str
    webhook: str  # "not configured", "delivered (HTTP 200)" or "failed: <reason>"

    @property
    def webhook_failed(self) -> bool:
        return self.webhook.startswith("failed")


def post_json(url: str, payload: Mapping, timeout_seconds: float = WEBHOOK_TIMEOUT_SECONDS) -> str:
    """POST the payload as JSON; return "delivered (HTTP n)" or "failed: reason". Never raises."""
    request = urllib.request.Request(
        validate_webhook_url(url),
        data=json.dumps(payload, sort_keys=True, default=str).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "keel-alerts"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:  # noqa: S310 - scheme checked above
            response.read()
            return f"delivered (HTTP {response.status})"
    except urllib.error.HTTPError as error:
        return f"failed: HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        return f"failed: {reason}"


def deliver(alert: Mapping, settings: AlertSettings) -> Delivery:
    """Send the alert to the webhook (if configured), then append it, with the webhook's outcome, to the file.

    The file is the durable record: a webhook that is down loses nothing, the
    line says it failed and why.
    """
    webhook = "not configured"
    if settings.webhook_url:
        webhook = post_json(settings.webhook_url, alert, settings.timeout_seconds)
    record = {**alert, "webhook": webhook}
    settings.file.parent.mkdir(parents=True, exist_ok=True)
    with settings.file.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True, default=str) + "\n")
    return Delivery(file=str(settings.file), webhook=webhook)


def read_alerts(path: Path) -> list[dict]:
    """The alerts appended to a JSON Lines file so far (none if it does not exist)."""
    if not Path(path).exists():
        return []
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
