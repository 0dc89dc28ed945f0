"""Does a KEEL_HOME made by an earlier keel keep working under this one?

An operator upgrades by stopping `make run`, pulling the new code and
starting it again on the same KEEL_HOME: the warehouse, the ledger, the
model registry, the review inbox and Dagster's instance were all written by
the earlier code. `make upgrade-check FROM=<commit or tag>` (`python -m
keel.upgrade_check FROM`) tries exactly that in a scratch folder before a
release or before an upgrade: it takes the earlier commit's code out of
git, makes a demo home with it (a few decided days and a reviewer's
decision), then works on that home with this checkout's code as an operator
would the morning after: the next day's run, an amendment of the earlier
reviewer's decision, `keel explain`, `keel audit verify`, a replay of an
earlier day and the model registry. Each is a check with what was expected
and what was found; the exit code is 1 when one fails.

The earlier code runs in this checkout's environment (.venv): a commit whose
pyproject.toml differs is named before it starts, since a changed
dependency may be what breaks it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from keel.home import REPO_ROOT

# Enough decided days for a replay of one that is not the first, and few enough to take a minute.
EARLIER_DAYS = 3
REVIEWER = "upgrade-check"
_APPLICATION_ID = re.compile(r"^(A[0-9]{6,9})\b", re.MULTILINE)
_COMMIT = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._/~^-]{0,99}$")


@dataclass(frozen=True)
class Check:
    name: str
    expected: str
    found: str
    ok: bool


@dataclass(frozen=True)
class Outcome:
    """What one `keel` command did: its exit code, its output, and its JSON when it printed one."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def payload(self) -> dict | None:
        try:
            parsed = json.loads(self.stdout)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    @property
    def said(self) -> str:
        """The command's last words: its error line when it failed, else its last line of output."""
        lines = (self.stderr if self.returncode else self.stdout).strip().splitlines() or self.stdout.strip().splitlines()
        return lines[-1] if lines else f"exit {self.returncode}, no output"


def judge_replay(day: str, replayed: Outcome) -> Check:
    """A replay under newer code MATCHes, or is refused because the day's policy or contract file has changed since.

    A refusal is what replay promises for a day decided under other
    versions (it names the commit to check out), so it passes; DIFFERENT,
    or any other failure, does not: the same versions decided otherwise.
    """
    expected = "MATCH, or refused naming the policy or contract version to check out"
    payload = replayed.payload
    if payload is not None and "match" in payload:
        if payload["match"]:
            return Check(f"keel replay {day}", expected, f"MATCH: {payload.get('rows_replayed')} decisions byte for byte", True)
        differences = payload.get("differences") or []
        applications = len({d.get("application_id") for d in differences})
        missing, extra = len(payload.get("missing_rows") or []), len(payload.get("extra_rows") or [])
        found = f"DIFFERENT: {len(differences)} values differ in {applications} applications, {missing} recorded rows missing, {extra} rows extra"
        return Check(f"keel replay {day}", expected, found, False)
    refused = replayed.returncode != 0 and "check out the commit" in replayed.stderr
    return Check(f"keel replay {day}", expected, ("refused: " if refused else "") + replayed.said, refused)


def judge_amendment(application_id: str, amended: Outcome, explained: Outcome) -> Check:
    """The newer code's amendment of the earlier code's review decision is taken, stands, and explain tells both."""
    expected = "final decision approve, amending the earlier decline"
    if amended.returncode != 0:
        return Check(f"keel explain {application_id}", expected, f"the amendment was refused: {amended.said}", False)
    payload = explained.payload or {}
    final, amends = payload.get("final_decision"), payload.get("review_amends") or []
    found = f"final decision {final}, amends {len(amends)} earlier decision(s)" if payload else explained.said
    return Check(f"keel explain {application_id}", expected, found, final == "approve" and len(amends) == 1)


def judge_champion(listed: Outcome, decided_by: str | None, upgraded_at: dt.datetime) -> Check:
    """The champion the earlier code promoted is still champion, and it decided the new day."""
    expected = "the earlier code's champion still champion, deciding the new day"
    payload = listed.payload
    if listed.returncode != 0 or payload is None:
        return Check("keel model list", expected, listed.said, False)
    champion = payload.get("champion")
    created = {v.get("version"): v.get("created_at") for v in payload.get("versions") or []}.get(champion)
    earlier = created is not None and _utc(dt.datetime.fromisoformat(created)) < upgraded_at
    found = f"champion {champion} (registered {created}), the new day decided by {decided_by}"
    return Check("keel model list", expected, found, earlier and champion == decided_by)


def _utc(moment: dt.datetime) -> dt.datetime:
    # keel stores times in UTC; one written without its offset is read as such.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _decided_the_day(ran: Outcome) -> bool:
    run = ran.payload or {}
    accepted = run.get("accepted") or 0
    return bool(run.get("success")) and accepted > 0 and (run.get("decided_auto") or 0) + (run.get("sent_to_review") or 0) == accepted


def first_pending_case(review_list_text: str) -> str | None:
    """The first application id of `keel review list`'s text (the oldest pending case)."""
    found = _APPLICATION_ID.search(review_list_text)
    return found.group(1) if found else None


def validate_commit(commit: str) -> str:
    """A commit, tag or branch name as git takes it; refused before it reaches a command line."""
    if not _COMMIT.match(commit) or ".." in commit:
        raise ValueError(f"{commit!r} is not a commit, tag or branch name (letters, digits and . _ / ~ ^ - only)")
    return commit


class Keel:
    """`keel` commands on one KEEL_HOME, with this checkout's code or with the code extracted to `code_root`."""

    def __init__(self, home: Path, code_root: Path | None = None):
        self.home, self.code_root = home, code_root

    def __call__(self, *args: str) -> Outcome:
        # None of the operator's KEEL_ settings: a scratch home must not post alerts to their webhook or write to their warehouse.
        env = {name: value for name, value in os.environ.items() if not name.startswith("KEEL_")}
        env.update({"KEEL_HOME": str(self.home), "DAGSTER_HOME": str(self.home / "dagster"), "PYTHONUNBUFFERED": "1"})
        if self.code_root is not None:
            env["PYTHONPATH"] = str(self.code_root)
        entry = "from keel.cli.main import app; app()"
        done = subprocess.run(
            [sys.executable, "-c", entry, *args], cwd=self.code_root or REPO_ROOT, env=env, capture_output=True, text=True, check=False
        )
        return Outcome(done.returncode, done.stdout, done.stderr)


def extract_code(commit: str, into: Path) -> None:
    """The commit's files, as git has them, into `into` (no checkout of this repository is touched)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=REPO_ROOT, capture_output=True, check=False)
    if archive.returncode != 0:
        raise RuntimeError(f"git archive {commit} failed: {archive.stderr.decode(errors='replace').strip()}")
    unpacked = subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, capture_output=True, check=False)
    if unpacked.returncode != 0:
        raise RuntimeError(f"unpacking {commit}'s code into {into} failed: {unpacked.stderr.decode(errors='replace').strip()}")


def commit_exists(commit: str) -> bool:
    found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"], cwd=REPO_ROOT, capture_output=True, check=False)
    return found.returncode == 0


def dependencies_differ(commit: str) -> bool:
    changed = subprocess.run(["git", "diff", "--quiet", commit, "HEAD", "--", "pyproject.toml"], cwd=REPO_ROOT, capture_output=True, check=False)
    return changed.returncode == 1


def _expect(name: str, expected: str, outcome: Outcome, ok: Callable[[Outcome], bool], found: Callable[[Outcome], str] | None = None) -> Check:
    passed = outcome.returncode == 0 and ok(outcome)
    return Check(name, expected, (found(outcome) if found and outcome.returncode == 0 else outcome.said), passed)


def check_upgrade(commit: str, workdir: Path, say: Callable[[str], None] = print) -> list[Check]:
    """Make a home with `commit`'s code in `workdir`, then use it with this checkout's code; the checks in order."""
    from keel.demo_calendar import DemoCalendar

    code, home = workdir / "earlier-code", workdir / "home"
    earlier, now = Keel(home, code_root=code), Keel(home)
    days = [d.isoformat() for d in DemoCalendar().live_dates(EARLIER_DAYS + 1)]
    checks: list[Check] = []

    say(f"taking {commit}'s code out of git")
    extract_code(commit, code)
    say(f"{commit}: parsing its dbt project and making a home with {EARLIER_DAYS} decided days (about a minute)")
    prepared = earlier("prepare")
    if prepared.returncode != 0:
        return [Check(f"{commit}: keel prepare", "exit 0", prepared.said, False)]
    demo = earlier("demo", "--days", str(EARLIER_DAYS))
    checks.append(_expect(f"{commit}: keel demo --days {EARLIER_DAYS}", "exit 0", demo, lambda o: True, lambda o: o.said))
    if not checks[-1].ok:
        return checks
    listed = earlier("review", "list")
    case = first_pending_case(listed.stdout)
    if case is None:
        return [*checks, Check(f"{commit}: keel review list", "a pending case", f"none: {listed.said}", False)]
    declined = earlier("review", "decide", case, "decline", "--reviewer", REVIEWER, "--reason", f"decided by {commit}")
    reviewed = earlier("review", "ingest") if declined.returncode == 0 else declined
    checks.append(_expect(f"{commit}: a reviewer declines {case}", "exit 0", reviewed, lambda o: True, lambda o: o.said))
    if not checks[-1].ok:
        return checks

    next_day = days[-1]
    say(f"this checkout: landing and running {next_day} on that home")
    upgraded_at = dt.datetime.now(dt.timezone.utc)
    now("land", "--date", next_day)
    ran = now("run", "--date", next_day, "--json")
    checks.append(
        _expect(
            f"keel run --date {next_day}",
            "the run succeeds and decides the day",
            ran,
            _decided_the_day,
            lambda o: f"received {o.payload['received']}, decided automatically {o.payload['decided_auto']}, sent to review {o.payload['sent_to_review']}",
        )
    )
    say(f"this checkout: amending {case}'s review decision, explaining it, verifying the ledger")
    amended = now("review", "decide", case, "approve", "--amend", "--reviewer", REVIEWER, "--reason", "amended after the upgrade")
    if amended.returncode == 0:
        amended = now("review", "ingest")
    checks.append(judge_amendment(case, amended, now("explain", case, "--json")))
    verified = now("audit", "verify", "--json")
    checks.append(
        _expect(
            "keel audit verify",
            "the ledger's hash chain intact, the earlier code's batches and this one's",
            verified,
            lambda o: bool(o.payload and o.payload.get("ok")),
            lambda o: f"intact: {o.payload.get('batches_checked')} batches",
        )
    )
    say(f"this checkout: replaying {days[1]}, decided by {commit}")
    checks.append(judge_replay(days[1], now("replay", days[1], "--json")))
    checks.append(judge_champion(now("model", "list", "--json"), (ran.payload or {}).get("model_version"), upgraded_at))
    return checks


def report(commit: str, checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"a home made by {commit}, used by this checkout ({_head()}):"]
    lines += [f"  {'ok  ' if c.ok else 'FAIL'}  {c.name:<{width}}  {c.found}" + ("" if c.ok else f"  (expected: {c.expected})") for c in checks]
    failed = sum(not c.ok for c in checks)
    lines.append(f"{len(checks) - failed} of {len(checks)} checks passed" + (f"; {failed} failed" if failed else ""))
    return "\n".join(lines)


def _head() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    return head.stdout.strip() or "unknown commit"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m keel.upgrade_check", description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the earlier keel: a commit, tag or branch of this repository")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (the earlier code and the home) for inspection")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args(argv)
    try:
        commit = validate_commit(args.commit)
    except ValueError as refused:
        print(f"upgrade check: {refused}", file=sys.stderr)
        return 2
    if not commit_exists(commit):
        print(f"upgrade check: {commit} is not a commit of this repository ({REPO_ROOT}); `git log --oneline` lists them", file=sys.stderr)
        return 2
    say = (lambda _m: None) if args.json else (lambda m: print(f"[{dt.datetime.now():%H:%M:%S}] {m}", file=sys.stderr, flush=True))
    packages_differ = dependencies_differ(commit)
    if packages_differ:
        say(f"note: pyproject.toml differs between {commit} and HEAD; {commit}'s code runs with this checkout's packages")
    workdir = Path(tempfile.mkdtemp(prefix="keel-upgrade-check-"))
    try:
        checks = check_upgrade(commit, workdir, say)
    except RuntimeError as failed:
        print(f"upgrade check: {failed}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(
            json.dumps(
                {
                    "from": commit,
                    "to": _head(),
                    "ok": all(c.ok for c in checks),
                    "checks": [c.__dict__ for c in checks],
                    "dependencies_differ": packages_differ,
                    "scratch": str(workdir) if args.keep else None,
                },
                indent=2,
            )
        )
    else:
        print(report(commit, checks))
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
