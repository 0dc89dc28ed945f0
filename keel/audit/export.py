"""`keel audit export`: an evidence bundle for auditors, for a range of days, with a manifest of hashes.

The bundle holds what an auditor asks for first: the decision ledger and its
chain for the days, the applications as received (personal data
pseudonymized), the versions of models, policies and contracts in force, the
contracts themselves, every check result of the days' runs, the drift
summary, the review measures, and the approvals and alias moves of the model
registry. manifest.json lists every file with its sha256 and size, so the
bundle can be verified after it is handed over.

Pseudonymization is a keyed hash (HMAC-SHA256) of each value of a column the
contract marks `pii: true`: equal values stay equal (joins and counts still
work), but the value cannot be read back without the key. The key comes from
KEEL_PSEUDONYM_KEY, or from KEEL_HOME/secrets/pseudonym.key (created with
owner-only permissions on first use); it is never written into the bundle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from keel import warehouse as wh
from keel.ledger_store import LEDGER_ORDER
from keel.manifest import ALTERED, MISSING, OUTSIDE, UNLISTED, manifest_problems
from keel.contracts.quarantine import shown_value
from keel.control_store import ControlStore
from keel.home import KeelHome
from keel.ingest import CONTRACTS_DIR, contract_for

KEY_ENV = "KEEL_PSEUDONYM_KEY"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Bundle:
    out: Path
    files: dict[str, dict]
    days: list[str]
    pseudonymized: bool

    def to_dict(self) -> dict:
        return {"out": str(self.out), "days": self.days, "pseudonymized": self.pseudonymized, "files": self.files}


def pseudonym_key(home: KeelHome) -> bytes:
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV].encode("utf-8")
    path = home.root / "secrets" / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


def pseudonym(value, key: bytes) -> str:
    """"p_" + 16 hex digits of the value's keyed hash: the same value gives the same pseudonym within one key."""
    return "p_" + hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def pseudonymize(frame: pd.DataFrame, columns: tuple[str, ...], key: bytes) -> pd.DataFrame:
    """Each value of `columns` replaced by its pseudonym; missing values stay missing."""
    out = frame.copy()
    for column in columns:
        if column not in out.columns:
            continue
        out[column] = [None if pd.isna(v) else pseudonym(v, key) for v in out[column]]
    return out


# A quoted literal in a quarantine reason: a value as received ('...'), or Python's repr of one in a blocked file's
# examples; not an apostrophe inside a word ("the column's type").
_QUOTED = re.compile(r"(?<!\w)(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")(?!\w)")


def pseudonymize_quarantine(quarantine: pd.DataFrame, key: bytes, names: set[str]) -> pd.DataFrame:
    """The quarantine with the values found hidden, in `value_found` and inside each `reason` too.

    A reason quotes what was found ("column age: expected ..., found '17'"),
    and a blocked file's reason quotes examples from its rows: each quoted
    literal becomes the pseudonym of its text (a row's own value, the
    pseudonym in its `value_found`), except the `names` of columns and
    contracts, which say where the problem is and are nobody's data.
    """
    if quarantine.empty:
        return quarantine

    def literal(match: re.Match) -> str:
        text = match.group(0)[1:-1]
        return match.group(0) if text in names else f"'{pseudonym(text, key)}'"

    def hidden(reason, value):
        if not isinstance(reason, str):
            return reason
        if isinstance(value, str):
            # Its own value first, as it was quoted (it may hold a quote itself), fenced by a
            # character no reason holds so that the literals' pass leaves it alone.
            reason = reason.replace(f"'{shown_value(value)}'", f"\x00{pseudonym(value, key)}\x00")
        return _QUOTED.sub(literal, reason).replace("\x00", "'")

    out = quarantine.copy()
    out["reason"] = [hidden(r, None if pd.isna(v) else v) for r, v in zip(out["reason"], out["value_found"])]
    return pseudonymize(out, ("value_found",), key)


def contract_names(contract) -> set[str]:
    """The names a quarantine reason may quote that are not data: the contract's and its columns' (with their aliases)."""
    return {contract.name, *(c.name for c in contract.columns), *(a for c in contract.columns for a in c.aliases)}


def _write_frame(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False)


def _write_json(data, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")


def _between(con, schema: str, table: str, column: str, first: str, last: str, order: str = "all") -> pd.DataFrame:
    if not wh.table_exists(con, schema, table):
        return pd.DataFrame()
    return con.execute(
        f"select * from {schema}.{table} where cast({column} as date) between cast(? as date) and cast(? as date) order by {order}",
        [first, last],
    ).df()


def export_bundle(home: KeelHome, first: dt.date, last: dt.date, out: Path, check_results: list[dict], pseudonymize_pii: bool = True) -> Bundle:
    """Write the bundle for days first..last into `out` (created; must be empty or absent)."""
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: choose a new folder for the bundle")
    out.mkdir(parents=True, exist_ok=True)
    a, b = first.isoformat(), last.isoformat()
    contract = contract_for("applications")
    with wh.connect(home.warehouse, read_only=True) as con:
        ledger = _between(con, "audit", "decision_ledger", "ledger_day", a, b, order=LEDGER_ORDER)
        batches = _between(con, "audit", "ledger_batches", "ledger_day", a, b)
        applications = _between(con, "raw", "applications", "partition_date", a, b)
        quarantine = _between(con, "raw", "applications_quarantine", "partition_date", a, b)
        drift = _between(con, "monitoring", "daily_summary", "day", a, b)
        review = _between(con, "review", "review_measures_daily", "application_date", a, b)
        final = _between(con, "review", "final_decisions", "application_date", a, b)
    if ledger.empty:
        raise LookupError(f"the ledger has no decisions between {a} and {b}")
    if pseudonymize_pii:
        key = pseudonym_key(home)
        applications = pseudonymize(applications, contract.pii_columns, key)
        # A quarantined row's offending value may be personal data too, and its reason quotes it.
        quarantine = pseudonymize_quarantine(quarantine, key, contract_names(contract))

    store = ControlStore(home.control_store)
    models = [m for m in store.list_model_versions() if m["version"] in set(ledger["model_version"].dropna())]
    versions = {
        "models": models,
        "policies": [p for p in store.policy_history() if p.get("version") in set(ledger["policy_version"].dropna())],
        "contracts": sorted(set(ledger["contract_version"].dropna())),
        "code_versions": sorted(set(ledger["code_version"].dropna())),
    }
    registry = {
        "alias_moves": store.alias_history(),
        "approvals": [a for m in store.list_model_versions() for a in store.approvals_for(m["version"])],
    }
    (out / "contracts").mkdir()
    for source in sorted(CONTRACTS_DIR.glob("*.yaml")):
        shutil.copyfile(source, out / "contracts" / source.name)

    _write_frame(ledger, out / "decision_ledger.parquet")
    _write_frame(batches, out / "ledger_batches.parquet")
    _write_frame(applications, out / "applications.parquet")
    _write_frame(quarantine, out / "applications_quarantine.parquet")
    _write_frame(final, out / "final_decisions.parquet")
    _write_frame(drift, out / "drift_summary.parquet")
    _write_frame(review, out / "review_measures.parquet")
    _write_json(versions, out / "versions.json")
    _write_json(registry, out / "model_registry.json")
    _write_json(check_results, out / "check_results.json")
    files = {
        str(path.relative_to(out)): {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "bytes": path.stat().st_size}
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }
    manifest = {
        "bundle": "keel audit evidence",
        "from": a,
        "to": b,
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "pseudonymized_columns": list(contract.pii_columns) if pseudonymize_pii else [],
        "files": files,
    }
    _write_json(manifest, out / MANIFEST)
    return Bundle(out, files, sorted(set(ledger["ledger_day"])), pseudonymize_pii)


def verify_bundle(out: Path) -> list[str]:
    """What no longer holds in a handed-over bundle (empty when it is intact).

    Every file must match its sha256 in the manifest, no file may have been
    added, and the ledger excerpt must still recompute: each batch's rows hash
    and digest, and its link to the batch before it where that one is in the
    bundle too. Needs only the folder, not the KEEL_HOME it came from.
    """
    from keel.ledger import verify_excerpt

    manifest_path = out / MANIFEST
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{out} has no {MANIFEST}: not a keel evidence bundle (keel audit export writes one)")
    try:
        manifest = json.loads(manifest_path.read_text())
        listed = manifest["files"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{manifest_path}: not a keel bundle manifest ({error})") from None
    words = {OUTSIDE: "not a path inside the bundle", MISSING: "missing", ALTERED: "sha256 differs from the manifest", UNLISTED: "not in the manifest"}
    problems = [f"{name}: {words[kind]}" for name, kind in manifest_problems(out, {name: entry["sha256"] for name, entry in listed.items()}, MANIFEST)]
    ledger, batches = out / "decision_ledger.parquet", out / "ledger_batches.parquet"
    if ledger.exists() and batches.exists():
        problems += verify_excerpt(pd.read_parquet(batches), pd.read_parquet(ledger))
    return problems


def check_results_for_days(instance, first: dt.date, last: dt.date) -> list[dict]:
    """Every asset check result of the runs of days first..last, from the Dagster event log."""
    import dagster as dg

    from keel.orchestrate import read_run

    results = []
    day = first
    while day <= last:
        records = instance.get_run_records(filters=dg.RunsFilter(tags={"dagster/partition": day.isoformat()}))
        for record in sorted(records, key=lambda r: r.create_timestamp):
            run = read_run(instance, record.dagster_run.run_id)
            for check, result in sorted(run.checks.items()):
                results.append({"day": day.isoformat(), "run_id": run.run_id, "check": check, **result})
        day += dt.timedelta(days=1)
    return results
