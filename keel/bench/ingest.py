"""How much of ingesting a day the data contract costs.

The ingest step of raw_applications reads the landing file, applies the
contract (header and renames, type parsing, the pandera value checks,
duplicates, quarantine records, the file-day check) and stores accepted,
quarantined and duplicate rows in DuckDB. This measures each part on one
scaled day, with the same functions the asset calls, and reports contract
validation as a share of the whole step.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from keel import warehouse as wh
from keel.bench.scaled_day import scaled_applications
from keel.contracts import apply_contract
from keel.ingest import DAY_COLUMN, contract_for, quarantine_rows_of_other_days, store_outcome, IngestOutcome
from keel.landing import read_landing_file
from keel.landing_zone import frame_to_bytes, landing_file_name, write_atomically

BENCH_DAY = dt.date(2026, 3, 1)
SOURCE = "applications"


@dataclass(frozen=True)
class IngestTimings:
    rows: int
    format: str
    file_mb: float
    read_s: float
    contract_s: float
    validate_s: float
    contract_parts_s: dict
    store_s: float
    ingest_s: float
    contract_share: float
    validate_share: float
    rows_per_s: float
    accepted: int
    quarantined: int
    duplicates: int
    peak_rss_mb: float

    def to_dict(self) -> dict:
        return asdict(self)


def _timed(step: Callable, *args):
    started = time.perf_counter()
    value = step(*args)
    return value, time.perf_counter() - started


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_ingest(rows: int, workdir: Path, fmt: str = "csv", seed: int = 0) -> IngestTimings:
    """Land one scaled day in `workdir` and time its ingest step, part by part."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / landing_file_name(SOURCE, BENCH_DAY, fmt)
    write_atomically(path, frame_to_bytes(scaled_applications(rows, BENCH_DAY, seed), fmt))
    contract = contract_for(SOURCE)

    landed, read_s = _timed(read_landing_file, path)

    parts: dict[str, float] = {}

    def validate():
        result = apply_contract(landed.frame, contract, source_file=path.name, source_sha256=landed.sha256, timings=parts)
        return quarantine_rows_of_other_days(result, DAY_COLUMN[SOURCE], BENCH_DAY, contract.key)

    result, contract_s = _timed(validate)
    outcome = IngestOutcome(path.name, landed.sha256, contract.version, result, blocking_errors=list(result.blocking_errors), days=[BENCH_DAY.isoformat()])

    def store():
        with wh.connect(workdir / "bench.duckdb") as con:
            store_outcome(con, SOURCE, BENCH_DAY.isoformat(), outcome)

    _, store_s = _timed(store)
    ingest_s = read_s + contract_s + store_s
    counts = outcome.counts
    return IngestTimings(
        rows=rows,
        format=fmt,
        file_mb=round(path.stat().st_size / 1e6, 1),
        read_s=round(read_s, 3),
        contract_s=round(contract_s, 3),
        validate_s=round(parts.get("validate", 0.0), 3),
        contract_parts_s={name: round(seconds, 3) for name, seconds in parts.items()},
        store_s=round(store_s, 3),
        ingest_s=round(ingest_s, 3),
        contract_share=round(contract_s / ingest_s, 3),
        validate_share=round(parts.get("validate", 0.0) / ingest_s, 3),
        rows_per_s=round(rows / ingest_s),
        accepted=counts["accepted"],
        quarantined=counts["quarantined"],
        duplicates=counts["duplicates"],
        peak_rss_mb=round(peak_rss_mb(), 1),
    )
