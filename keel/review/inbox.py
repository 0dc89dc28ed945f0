"""The review inbox: reviewers' decisions arriving as JSON Lines files, checked line by line.

Each line is one decision about one queued case:

    {"application_id": "A000042", "decision": "decline", "reviewer": "mchen",
     "reason": "income not verifiable", "reviewed_at": "2026-01-15T10:42:00+00:00"}

A file is never accepted or refused as a whole: good lines are kept and each
bad line is set aside with the reason it was refused (malformed JSON, a
missing field, an unknown decision, an unknown application, a case that is
not waiting for review, a second decision for the same case, a timestamp
without a timezone). The first decision for a case is the one that counts;
a later one is refused, never a silent overwrite (so `keel review decide`
refuses a case whose decision is still waiting in the inbox).

A reviewer who got a case wrong corrects it with an amendment: the same line
with `"amends": true`. It is accepted only for a case that already has a
review decision (stored, or earlier in the inbox), is kept beside the
decision it amends (nothing is rewritten), and the latest decision for a
case is the one that stands.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from keel.columns import APPLICATION_ID, ROUTE_APPROVE, ROUTE_DECLINE

INBOX_FIELDS: tuple[str, ...] = (APPLICATION_ID, "decision", "reviewer", "reason", "reviewed_at")
REVIEW_DECISIONS: tuple[str, ...] = (ROUTE_APPROVE, ROUTE_DECLINE)
# Optional: true on a line that corrects the case's earlier review decision.
AMENDS = "amends"
ACCEPTED_COLUMNS: tuple[str, ...] = INBOX_FIELDS + (AMENDS, "source_file", "source_sha256", "line_number")
AMEND_HINT = 'to correct it, send an amendment ("amends": true; `keel review decide ... --amend`)'


class Rejection(NamedTuple):
    line_number: int
    raw_line: str
    reason: str


@dataclass(frozen=True)
class InboxResult:
    """What one inbox file held: the decisions kept and the lines refused, with why."""

    source_file: str
    source_sha256: str
    accepted: pd.DataFrame
    rejected: list[Rejection] = field(default_factory=list)


class LineRefused(ValueError):
    """One inbox line cannot be accepted; the message is the reason recorded for it."""


def parse_reviewed_at(value: object) -> str:
    """The timestamp normalized to UTC ISO-8601; a timestamp without a timezone is ambiguous and refused."""
    if not isinstance(value, str):
        raise LineRefused(f"reviewed_at {value!r} is not an ISO-8601 timestamp text")
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise LineRefused(f"reviewed_at {value!r} is not an ISO-8601 timestamp") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise LineRefused(f"reviewed_at {value!r} has no timezone offset (write e.g. 2026-01-15T10:42:00+00:00)")
    return moment.astimezone(dt.timezone.utc).isoformat()


def check_decision_fields(record: object) -> dict:
    """The inbox fields of one decision, checked for presence, type and allowed values (not for the queue)."""
    if not isinstance(record, Mapping):
        raise LineRefused(f"expected a JSON object, found {type(record).__name__}")
    missing = [name for name in INBOX_FIELDS if name not in record or record[name] is None]
    if missing:
        raise LineRefused(f"missing field(s) {', '.join(missing)}")
    for name in (APPLICATION_ID, "decision", "reviewer", "reason"):
        value = record[name]
        if not isinstance(value, str):
            raise LineRefused(f"{name} must be text, found {value!r}")
        if not value.strip():
            raise LineRefused(f"{name} is empty")
    decision = record["decision"].strip()
    if decision not in REVIEW_DECISIONS:
        raise LineRefused(f"decision {record['decision']!r} is not one of {', '.join(REVIEW_DECISIONS)}")
    amends = record.get(AMENDS, False)
    if not isinstance(amends, bool):
        raise LineRefused(f"{AMENDS} must be true or false, found {amends!r}")
    return {
        APPLICATION_ID: record[APPLICATION_ID].strip(),
        "decision": decision,
        "reviewer": record["reviewer"].strip(),
        "reason": record["reason"].strip(),
        "reviewed_at": parse_reviewed_at(record["reviewed_at"]),
        AMENDS: amends,
    }


def validate_inbox_file(path: Path | str, queue_ids: set[str], known_ids: set[str], already_decided: set[str]) -> InboxResult:
    """Check every line of one inbox file against the review queue.

    queue_ids: cases waiting for a reviewer; known_ids: every application
    decided so far (to tell a typo from a case decided automatically);
    already_decided: cases with a review decision from an earlier file. Call
    it once per file: validating a file again after its decisions were stored
    would refuse them all as already decided.
    """
    path = Path(path)
    data = path.read_bytes()
    accepted: list[dict] = []
    rejected: list[Rejection] = []
    decided_here: dict[str, int] = {}
    sha256 = hashlib.sha256(data).hexdigest()
    for number, raw_bytes in enumerate(data.splitlines(), start=1):
        raw = raw_bytes.decode("utf-8", errors="replace")
        if not raw.strip():
            continue  # blank lines carry no decision
        try:
            try:
                raw_bytes.decode("utf-8")
            except UnicodeDecodeError:
                raise LineRefused("the line is not valid UTF-8 text") from None
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise LineRefused(f"malformed JSON: {exc.msg} at column {exc.colno}") from None
            decision = check_decision_fields(record)
            case = decision[APPLICATION_ID]
            if case not in known_ids and case not in queue_ids:
                raise LineRefused(f"unknown application {case}")
            # A reviewer's decision stands over a day decided again without the case in review; it can still be amended.
            if case not in queue_ids and not (decision[AMENDS] and case in already_decided):
                raise LineRefused(f"application {case} is not in the review queue (it was decided automatically)")
            if decision[AMENDS]:
                if case not in already_decided and case not in decided_here:
                    raise LineRefused(f"application {case} has no review decision to amend (send it without \"{AMENDS}\")")
            elif case in already_decided:
                raise LineRefused(f"application {case} already has a review decision from an earlier inbox file; {AMEND_HINT}")
            elif case in decided_here:
                raise LineRefused(f"application {case} was already decided on line {decided_here[case]} of this file; {AMEND_HINT}")
        except LineRefused as refusal:
            rejected.append(Rejection(number, raw, str(refusal)))
            continue
        decided_here[case] = number
        accepted.append({**decision, "source_file": path.name, "source_sha256": sha256, "line_number": number})
    frame = pd.DataFrame(accepted, columns=list(ACCEPTED_COLUMNS))
    frame = frame.astype({**{c: "str" for c in ACCEPTED_COLUMNS if c not in (AMENDS, "line_number")}, AMENDS: "bool", "line_number": "int64"})
    return InboxResult(source_file=path.name, source_sha256=sha256, accepted=frame, rejected=rejected)


class WaitingDecision(NamedTuple):
    decision: str
    reviewer: str
    source_file: str
    amends: bool = False


def waiting_decisions(files: Iterable[Path]) -> dict[str, WaitingDecision]:
    """The first decision per case in inbox files not taken in yet (`files` in arrival order).

    For an undecided case, the one ingest will keep; for a decided one, an
    amendment. Lines ingest would refuse for their form are skipped here, it
    reports them.
    """
    waiting: dict[str, WaitingDecision] = {}
    for path in files:
        for raw in Path(path).read_bytes().splitlines():
            try:
                record = check_decision_fields(json.loads(raw))
            except (ValueError, UnicodeDecodeError):
                continue
            waiting.setdefault(record[APPLICATION_ID], WaitingDecision(record["decision"], record["reviewer"], Path(path).name, record[AMENDS]))
    return waiting


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_rejections(result: InboxResult, rejected_dir: Path | str) -> Path | None:
    """Write the refused lines of one inbox file, each with its reason, as `<inbox file>.rejected.jsonl`.

    Returns the file written, or None when nothing was refused. Writing the
    same result again gives the same bytes.
    """
    if not result.rejected:
        return None
    folder = Path(rejected_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{result.source_file}.rejected.jsonl"
    lines = [
        json.dumps(
            {"source_file": result.source_file, "source_sha256": result.source_sha256, "line_number": r.line_number, "reason": r.reason, "raw_line": r.raw_line},
            ensure_ascii=False,
        )
        for r in result.rejected
    ]
    _write_atomically(target, "\n".join(lines) + "\n")
    return target


def inbox_line(decision: Mapping) -> str:
    """One decision in the inbox's JSON Lines form (fields in a fixed order; `amends` only on an amendment)."""
    line = {name: decision[name] for name in INBOX_FIELDS}
    if decision.get(AMENDS):
        line[AMENDS] = True
    return json.dumps(line, ensure_ascii=False)


def write_inbox_file(decisions: Iterable[Mapping], inbox_dir: Path | str, name: str) -> Path:
    """Drop a new inbox file; an existing file is never overwritten (the inbox is append-only)."""
    if not name.endswith(".jsonl") or "/" in name or name.startswith("."):
        raise ValueError(f"inbox file name {name!r}: expected a plain file name ending in .jsonl")
    folder = Path(inbox_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    partial = folder / f".{name}.partial"
    partial.write_text("".join(inbox_line(d) + "\n" for d in decisions), encoding="utf-8")
    try:
        os.link(partial, target)  # appears complete or not at all, and fails rather than overwrite
    except FileExistsError:
        raise FileExistsError(f"{target} already exists; inbox files are never overwritten, choose a new name") from None
    finally:
        partial.unlink()
    return target
