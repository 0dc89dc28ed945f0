"""`keel explain`: the whole story of one application, from the raw record to the reviewer and the outcome.

Read-only: the decision ledger (the recorded versions, hashes and runs), the
raw row as delivered, the features the model saw, the review outcome, the
final decision and the repayment outcome. Every fact says where it comes from,
and every Dagster run is linked so an auditor can open it in the UI.
"""

from __future__ import annotations

import json

import pandas as pd

from keel import warehouse as wh
from keel.columns import APPLICATION_ID_PATTERN, MODEL_FEATURES, REVIEW_TAKEN_IN_ORDER
from keel.policy.reasons import describe_reasons
from keel.ui_links import run_link, ui_base_url


class NotFound(LookupError):
    """No decision is recorded for the application."""


class NotDecided(NotFound):
    """The application was received but no decision stands for it: `record` says what became of it."""

    def __init__(self, record: dict):
        super().__init__("\n".join(record["story"]))
        self.record = record


HELD_BACK_SQL = """
select left(cast(partition_date as varchar), 10) as day, source_file, row_number, "column", "check", value_found, reason
from raw.{source}_quarantine
where {matches}
order by partition_date, source_file, row_number, "column", "check"
"""


def held_back(con, source: str, application_id: str) -> list[dict]:
    """The deliveries of `source` rows for the application that were quarantined, oldest first, each with its problems.

    Matched on the key the quarantine records carry; a home whose quarantine
    predates that column is matched where the id itself was the bad value.
    """
    table = f"{source}_quarantine"
    if not wh.table_exists(con, "raw", table):
        return []
    has_key = "application_id" in wh.table_columns(con, "raw", table)
    matches = "(application_id = $id or (application_id is null and \"column\" = 'application_id' and value_found = $id))" if has_key else (
        "(\"column\" = 'application_id' and value_found = $id)"
    )
    rows = con.execute(HELD_BACK_SQL.format(source=wh.safe_identifier(source), matches=matches), {"id": application_id}).fetchall()
    deliveries: dict[tuple, dict] = {}
    for day, source_file, row_number, column, check, value_found, reason in rows:
        delivery = deliveries.setdefault(
            (day, source_file, row_number), {"day": day, "source_file": source_file, "row_number": int(row_number), "problems": []}
        )
        delivery["problems"].append({"column": column, "check": check, "value_found": value_found, "reason": reason})
    return list(deliveries.values())


def _received_undecided(con, application_id: str) -> list[dict]:
    """Stored rows of the application (accepted by the contract) that no decision in the ledger came from."""
    if not wh.table_exists(con, "raw", "applications"):
        return []
    rows = con.execute(
        "select left(cast(partition_date as varchar), 10), source_file, source_row_number from raw.applications "
        "where application_id = ? order by partition_date",
        [application_id],
    ).fetchall()
    return [{"day": day, "source_file": file, "row_number": int(row)} for day, file, row in rows]


def explain_undecided(con, application_id: str) -> dict:
    """What became of an application with no decision in the ledger: held back by the contract, waiting, or unknown."""
    quarantined, _ = _split_held_back(held_back(con, "applications", application_id))
    received = _received_undecided(con, application_id)
    record = {
        "application_id": application_id,
        "decided": False,
        "held_back": quarantined,
        "received_undecided": received,
        "outcome": _outcome(con, application_id),
        "outcomes_held_back": held_back(con, "outcomes", application_id),
    }
    record["story"] = undecided_story(record)
    return record


def _problem_lines(deliveries: list[dict]) -> list[str]:
    lines = []
    for d in deliveries:
        lines.append(f"  - {d['day']}: {d['source_file']} row {d['row_number']}, quarantined:")
        lines += [f"      {p['check']} on {p['column']}: {p['reason']}" for p in d["problems"]]
    return lines


def undecided_story(r: dict) -> list[str]:
    """The undecided application's record in plain sentences."""
    aid = r["application_id"]
    if not (r["held_back"] or r["received_undecided"] or r["outcome"] or r["outcomes_held_back"]):
        return [f"no decision is recorded for {aid} in the ledger, and no landing file taken in holds it (check the id)"]
    lines = [f"no decision is recorded for {aid} in the ledger."]
    if r["held_back"]:
        count = len(r["held_back"])
        lines.append(
            f"The data contract held back {'its delivery' if count == 1 else f'{count} deliveries of it'}; "
            "it is decided once the source resends the row corrected:"
        )
        lines += _problem_lines(r["held_back"])
    for got in r["received_undecided"]:
        lines.append(
            f"It was received on {got['day']} in {got['source_file']} row {got['row_number']} and passed the contract, but the "
            f"day's run has not recorded its decision yet (`keel run --date {got['day']}`, or see the day's run in the UI)."
        )
    if r["outcome"]:
        lines.append(f"An outcome is known for it: repayment {r['outcome']['repayment_status']} on {r['outcome']['outcome_date']}.")
    if r["outcomes_held_back"]:
        lines.append("Outcome rows for it were held back:")
        lines += _problem_lines(r["outcomes_held_back"])
    return lines


def _one(con, schema: str, table: str, sql: str, params: list) -> dict | None:
    if not wh.table_exists(con, schema, table):
        return None
    frame = con.execute(sql, params).df()
    if frame.empty:
        return None
    return {key: _plain(value) for key, value in frame.iloc[0].items()}


def _all(con, schema: str, table: str, sql: str, params: list) -> list[dict]:
    if not wh.table_exists(con, schema, table):
        return []
    return [{key: _plain(value) for key, value in row.items()} for row in con.execute(sql, params).df().to_dict("records")]


def _split_held_back(deliveries: list[dict]) -> tuple[list[dict], list[dict]]:
    """The application's held-back deliveries as (refused by the data contract, later deliveries of the same id).

    A later delivery is quarantined as received_on_another_day (keel.ingest)
    while the first stands; it is told as `sent_again`, by day, file and row.
    """
    from keel.ingest import CHECK_RECEIVED_ON_ANOTHER_DAY

    refused, again = [], []
    for d in deliveries:
        if any(p["check"] == CHECK_RECEIVED_ON_ANOTHER_DAY for p in d["problems"]):
            again.append({"day": d["day"], "source_file": d["source_file"], "row_number": d["row_number"]})
        else:
            refused.append(d)
    return refused, again


def _outcome(con, application_id: str) -> dict | None:
    """The application's repayment outcome: the latest to land, with the earlier ones it corrects (oldest first)."""
    if not wh.table_exists(con, "staging", "stg_outcomes"):
        return None
    landed = con.execute(
        "select repayment_status, strftime(outcome_date, '%Y-%m-%d') as outcome_date from staging.stg_outcomes "
        "where application_id = ? order by outcome_date",
        [application_id],
    ).fetchall()
    if not landed:
        return None
    *earlier, (status, day) = landed
    return {"repayment_status": status, "outcome_date": day, "corrects": [{"repayment_status": s, "outcome_date": d} for s, d in earlier]}


def _champion_score_if_challenger_decided(con, application_id: str, decision: dict | None) -> dict | None:
    """The champion's own score of an application the challenger decided (a policy rollout share); else None."""
    if not decision or not decision.get("decided_by_model") or decision.get("decided_by_model") == decision.get("model_version"):
        return None
    scored = _one(con, "decisioning", "scores", "select model_version, p_bad from decisioning.scores where application_id = ?", [application_id])
    if not scored or scored.get("p_bad") is None:
        return None
    return {"model_version": scored["model_version"], "score": float(scored["p_bad"])}


def _plain(value):
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, str) and value == "":
        return None
    return value


def explain_application(con, application_id: str, policy=None, ui_url: str | None = None) -> dict:
    """Everything recorded about one application (the `keel explain --json` document)."""
    if not APPLICATION_ID_PATTERN.fullmatch(application_id):
        raise ValueError(f"application id {application_id!r} does not look like A + 6 to 9 digits")
    ledger = _one(
        con, "audit", "decision_ledger",
        "select * from audit.decision_ledger where application_id = ? and event_type = 'decision' order by batch_seq desc limit 1",
        [application_id],
    )
    if ledger is None:
        raise NotDecided(explain_undecided(con, application_id))
    raw = _one(con, "raw", "applications", "select * from raw.applications where application_id = ? order by partition_date desc limit 1", [application_id])
    features = _one(con, "marts", "application_features", "select * from marts.application_features where application_id = ?", [application_id])
    decision = _one(con, "decisioning", "decisions", "select * from decisioning.decisions where application_id = ?", [application_id])
    champion_score = _champion_score_if_challenger_decided(con, application_id, decision)
    final = _one(con, "review", "final_decisions", "select * from review.final_decisions where application_id = ?", [application_id])
    # The case's review decisions in the order taken in: the last stands, the ones before it were amended.
    reviews = _all(
        con, "review", "review_outcomes",
        f"select * from review.review_outcomes where application_id = ? order by {', '.join(REVIEW_TAKEN_IN_ORDER)}", [application_id],
    )
    review = reviews[-1] if reviews else None
    outcome = _outcome(con, application_id)
    deliveries = held_back(con, "applications", application_id)
    earlier_held_back, sent_again = _split_held_back(deliveries)

    earlier = _earlier_decisions(con, application_id, int(ledger["batch_seq"]), ledger.get("raw_row_hash"), ui_url)
    superseded_by = _day_decided_without_it(con, str(ledger.get("ledger_day")), int(ledger["batch_seq"]), ui_url)
    codes = json.loads(ledger.get("reason_codes") or "[]")
    reasons = [{"code": code, "text": text} for code, text in zip(codes, describe_reasons(codes, policy))]
    run_ids = json.loads(ledger.get("run_ids") or "{}")
    if review and review.get("run_id"):
        run_ids["review_outcomes"] = review["run_id"]
    base = ui_base_url(ui_url)
    final_decision = None if superseded_by else (final or {}).get("final_decision") or ledger.get("final_decision")
    record = {
        "application_id": application_id,
        "decided": True,
        "application_date": str(ledger.get("application_date"))[:10],
        "source_file": ledger.get("source_file"),
        "source_sha256": ledger.get("source_sha256"),
        # The ledger stores every cell as text (its canonical, hashed form).
        "row_number": int(ledger["source_row_number"]) if ledger.get("source_row_number") else None,
        "raw_row_hash": ledger.get("raw_row_hash"),
        "feature_row_hash": ledger.get("feature_row_hash"),
        "contract_version": ledger.get("contract_version"),
        "raw_values": {k: v for k, v in (raw or {}).items() if k not in ("source_file", "source_sha256", "source_row_number", "raw_row_hash", "partition_date")},
        "features": {k: (features or {}).get(k) for k in MODEL_FEATURES} if features else {},
        "model_version": ledger.get("model_version"),
        "model_unavailable": bool((decision or {}).get("model_unavailable")),
        "decided_by_model": (decision or {}).get("decided_by_model") or ledger.get("model_version"),
        "champion_score": champion_score,
        "policy_version": ledger.get("policy_version"),
        "score": float(ledger["score"]) if ledger.get("score") not in (None, "") else None,
        "reasons": reasons,
        "route": ledger.get("route"),
        "suggested_decision": (decision or {}).get("suggested_decision"),
        "qa_sampled": bool((decision or {}).get("qa_sampled")),
        "reviewer": (review or {}).get("reviewer"),
        "review_reason": (review or {}).get("reason"),
        "reviewed_at": (review or {}).get("reviewed_at"),
        "review_source": {"file": review["source_file"], "line": review["line_number"]} if review else None,
        "review_amends": [
            {
                "decision": r["decision"], "reviewer": r["reviewer"], "reason": r["reason"], "reviewed_at": r["reviewed_at"],
                "file": r["source_file"], "line": r["line_number"],
            }
            for r in reviews[:-1]
        ],
        "final_decision": final_decision,
        "decided_by": (final or {}).get("decided_by"),
        "overridden": bool((final or {}).get("overridden")),
        "outcome": outcome,
        "code_version": json.loads(ledger.get("code_version") or "{}"),
        "run_ids": run_ids,
        "run_links": {step: run_link(run_id, base) for step, run_id in run_ids.items() if run_id},
        "ledger_batch": ledger.get("batch_seq"),
        "earlier_decisions": earlier,
        "sent_again": sent_again,
        "held_back": earlier_held_back,
        "outcomes_held_back": held_back(con, "outcomes", application_id),
        "stands": superseded_by is None,
        "superseded_by": superseded_by,
    }
    record["story"] = story(record)
    return record


EARLIER_SQL = """
select l.batch_seq, b.appended_at, l.source_file, l.source_sha256, l.raw_row_hash, l.model_version, l.policy_version,
       l.score, l.route, b.run_id
from audit.decision_ledger l join audit.ledger_batches b using (batch_seq)
where l.application_id = ? and l.event_type = 'decision' and l.batch_seq < ?
order by l.batch_seq
"""


def _earlier_decisions(con, application_id: str, latest_batch: int, latest_raw_row_hash: str | None, ui_url: str | None) -> list[dict]:
    """The decisions the latest one superseded (its day re-run on a replaced file, or re-scored after a promotion)."""
    if not wh.table_exists(con, "audit", "ledger_batches"):
        return []
    frame = con.execute(EARLIER_SQL, [application_id, latest_batch]).df()
    return [
        {
            "ledger_batch": int(row.batch_seq),
            "recorded_at": row.appended_at,
            "source_file": row.source_file,
            "source_sha256": row.source_sha256,
            "row_changed_since": row.raw_row_hash != latest_raw_row_hash,
            "model_version": _plain(row.model_version),
            "policy_version": row.policy_version,
            "score": float(row.score) if row.score else None,
            "route": row.route,
            "run_link": run_link(row.run_id, ui_url) if row.run_id else None,
        }
        for row in frame.itertuples(index=False)
    ]


def _day_decided_without_it(con, ledger_day: str, batch_seq: int, ui_url: str | None) -> dict | None:
    """The day's later decision batch that does not hold the application (its new file left it out or quarantined
    it), or None when the application's decision is in the day as it stands."""
    latest = wh.fetch_one(
        con, "select max(batch_seq) from audit.ledger_batches where ledger_day = ? and event_type = 'decision'", [ledger_day]
    )[0]
    if latest is None or int(latest) <= batch_seq:
        return None
    batch = wh.fetch_one(
        con,
        "select b.batch_seq, b.appended_at, b.run_id, b.row_count, l.source_file, l.source_sha256 "
        "from audit.ledger_batches b join audit.decision_ledger l using (batch_seq) where b.batch_seq = ? limit 1",
        [int(latest)],
    )
    if batch is None:
        return None
    seq, appended_at, run_id, decided, source_file, source_sha256 = batch
    quarantined = None
    if wh.table_exists(con, "raw", "applications_quarantine"):
        quarantined = int(wh.fetch_one(
            con, "select count(distinct row_number) from raw.applications_quarantine where source_sha256 = ?", [source_sha256]
        )[0])
    return {
        "ledger_batch": int(seq), "recorded_at": appended_at, "source_file": source_file, "source_sha256": source_sha256,
        "decided": int(decided), "quarantined_rows": quarantined, "run_link": run_link(run_id, ui_url) if run_id else None,
    }


def _earlier_line(e: dict) -> str:
    scored = f"{e['score']:.1%}" if e["score"] is not None else "no score (fallback rules)"
    changed = ", the row has changed since" if e["row_changed_since"] else ""
    return (
        f"  - {str(e['recorded_at'])[:19].replace('T', ' ')} UTC (ledger batch {e['ledger_batch']}): from {e['source_file']} sha256 {str(e['source_sha256'])[:12]}…{changed}; "
        f"model {e['model_version'] or 'none'}, policy {e['policy_version']}, {scored}, routed to {e['route']}"
        + (f"; {e['run_link']}" if e["run_link"] else "")
    )


def story(r: dict) -> list[str]:
    """The record in plain sentences, in the order things happened."""
    lines = [
        f"{r['application_id']} was received on {r['application_date']} in {r['source_file']} (row {r['row_number']}, "
        f"file sha256 {str(r['source_sha256'])[:12]}…) and passed data contract {r['contract_version']}.",
    ]
    if r.get("superseded_by"):
        by = r["superseded_by"]
        quarantined = f", {by['quarantined_rows']} rows quarantined" if by["quarantined_rows"] is not None else ""
        lines.append(
            f"This decision no longer stands: the day was delivered again ({by['source_file']} sha256 {str(by['source_sha256'])[:12]}…, "
            f"recorded {str(by['recorded_at'])[:19].replace('T', ' ')} UTC, ledger batch {by['ledger_batch']}) and "
            f"{r['application_id']} was not decided in it: the new file left it out or quarantined it ({by['decided']} decided"
            f"{quarantined}; raw.applications_quarantine has each quarantined row's column, check and value)."
        )
    if r.get("earlier_decisions"):
        lines.append(f"It was decided {len(r['earlier_decisions']) + 1} times; the latest superseded the earlier ones:")
        lines += [_earlier_line(e) for e in r["earlier_decisions"]]
    if r.get("held_back"):
        lines.append("Deliveries of it the data contract held back (quarantined; the row above is the one decided):")
        lines += _problem_lines(r["held_back"])
    if r.get("sent_again"):
        again = "; ".join(f"on {a['day']} in {a['source_file']} row {a['row_number']}" for a in r["sent_again"])
        lines.append(f"It was sent again and set aside, quarantined as received_on_another_day (an application is decided once): {again}.")
    if r["features"]:
        shown = ", ".join(f"{k}={'missing' if v is None else (f'{v:.4g}' if isinstance(v, float) else v)}" for k, v in r["features"].items())
        lines.append(f"The model saw: {shown}.")
    if r["model_unavailable"] or r["score"] is None:
        lines.append("The model was unavailable; the policy's fallback rules decided.")
    else:
        lines.append(f"Model {r['model_version']} put the probability of bad repayment at {r['score']:.1%}.")
        if r.get("champion_score"):
            champion = r["champion_score"]
            lines.append(
                f"It was among the applications the policy's rollout share gives the challenger, {r['model_version']}, to decide; "
                f"the champion, {champion['model_version']}, scored it {champion['score']:.1%} (not used)."
            )
    lines.append(f"Policy {r['policy_version']} routed it to {r['route']}" + (" (also a QA sample)" if r["qa_sampled"] else "") + ", because:")
    lines += [f"  - {reason['text']} [{reason['code']}]" for reason in r["reasons"]]
    if r["reviewer"]:
        lines.append(
            f"Reviewer {r['reviewer']} decided {r['final_decision']} on {r['reviewed_at']}: \"{r['review_reason']}\""
            + (f" (overriding the suggested {r['suggested_decision']})" if r["overridden"] else "")
            + (f", from {r['review_source']['file']} line {r['review_source']['line']}." if r["review_source"] else ".")
        )
        if r.get("review_amends"):
            lines.append(
                "It amends the earlier review decision(s): "
                + "; ".join(f"{a['decision']} by {a['reviewer']} on {a['reviewed_at']}: \"{a['reason']}\" ({a['file']} line {a['line']})" for a in r["review_amends"])
                + "."
            )
        if r["route"] != "review":
            lines.append(
                f"The review was of an earlier decision that sent the case to review; the reviewer's decision stands over "
                f"the policy's automatic {r['route']} of the decision that superseded it."
            )
    elif r["route"] == "review":
        lines.append(f"No reviewer has decided yet: the case is {r['final_decision']} (suggested: {r['suggested_decision']}).")
    lines.append(f"Final decision: {r['final_decision']}." if r["final_decision"] else "Final decision: none stands now.")
    if r["outcome"]:
        corrected = "; ".join(f"{o['repayment_status']} known on {o['outcome_date']}" for o in r["outcome"]["corrects"])
        lines.append(
            f"Outcome: repayment {r['outcome']['repayment_status']}, known on {r['outcome']['outcome_date']}"
            + (f" (the source corrected it: earlier {corrected})." if corrected else ".")
        )
    else:
        lines.append("Outcome: not known yet.")
    if r.get("outcomes_held_back"):
        lines.append("Outcome rows for it the data contract held back:")
        lines += _problem_lines(r["outcomes_held_back"])
    lines.append("Runs: " + "; ".join(f"{link} ({', '.join(steps)})" for link, steps in _steps_by_link(r["run_links"]).items()))
    return lines


def _steps_by_link(run_links: dict[str, str]) -> dict[str, list[str]]:
    """One entry per run, naming the steps it materialized: a day's steps usually share one run."""
    grouped: dict[str, list[str]] = {}
    for step, link in run_links.items():
        grouped.setdefault(link, []).append(step)
    return grouped
