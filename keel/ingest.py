"""One landing file through its data contract: what is kept, quarantined, dropped, blocked.

This is the functional core behind the raw_applications and raw_outcomes
assets: it reads the day's file, applies the source's contract and checks that
every row is in the file's date. It writes nothing; the asset stores the frames.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from keel.contracts import Contract, ContractResult, apply_contract, load_contract
from keel.home import REPO_ROOT
from keel.landing import LandingFileError, read_landing_file

CONTRACTS_DIR = REPO_ROOT / "policies" / "contracts"


def contract_for(source: str) -> Contract:
    return load_contract(CONTRACTS_DIR / f"{source}.yaml")


@dataclass
class IngestOutcome:
    """The fate of every row of one day's file."""

    source_file: str
    source_sha256: str
    contract_version: str
    result: ContractResult | None
    file_problem: str | None = None  # empty_file, header_only, truncated_file, ...
    file_problem_message: str | None = None
    blocking_errors: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return bool(self.blocking_errors)

    @property
    def counts(self) -> dict[str, int]:
        if self.result is None:
            return {"received": 0, "accepted": 0, "quarantined": 0, "duplicates": 0}
        return dict(self.result.counts)

    @property
    def accepted(self) -> pd.DataFrame:
        assert self.result is not None
        return self.result.accepted

    @property
    def quarantine(self) -> pd.DataFrame:
        assert self.result is not None
        return self.result.quarantine

    @property
    def duplicates(self) -> pd.DataFrame:
        assert self.result is not None
        return self.result.duplicates


def ingest_file(path: Path, source: str, day: dt.date) -> IngestOutcome:
    """Read `path` and apply the source's contract; never raises for bad data, only reports it."""
    contract = contract_for(source)
    try:
        landed = read_landing_file(path)
    except LandingFileError as problem:
        return IngestOutcome(
            source_file=path.name,
            source_sha256=getattr(problem, "sha256", "") or "",
            contract_version=contract.version,
            result=None,
            file_problem=problem.kind,
            file_problem_message=str(problem),
            blocking_errors=[str(problem)],
        )
    result = apply_contract(landed.frame, contract, source_file=path.name, source_sha256=landed.sha256)
    return IngestOutcome(
        source_file=path.name,
        source_sha256=landed.sha256,
        contract_version=contract.version,
        result=result,
        file_problem=getattr(landed, "problem", None),
        file_problem_message=getattr(landed, "problem_message", None),
        blocking_errors=list(result.blocking_errors),
    )
