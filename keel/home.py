"""Where keel keeps its state: everything a run writes lives under KEEL_HOME.

    KEEL_HOME/
      warehouse.duckdb      data plane (one writer at a time)
      control.sqlite        control plane: model versions, aliases, approvals, policies
      models/               model artifacts named by the sha256 of their bytes
      landing/applications  source drops of applications (one file per day)
      landing/outcomes      source drops of repayment outcomes
      landing/rejected      files whose name or date was not valid, with a reason
      review/inbox          reviewers' decisions (JSON Lines)
      review/rejected       inbox lines that were refused, with the reason
      reports/              monitoring reports, data docs and the expectation results they show
      dbt/                  dbt's saved parse and its config schemas, reused by the next run
      dagster/              DAGSTER_HOME of the local instance
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_KEEL_HOME = REPO_ROOT / "var"


@dataclass(frozen=True)
class KeelHome:
    root: Path

    @classmethod
    def from_env(cls) -> "KeelHome":
        return cls(Path(os.environ.get("KEEL_HOME") or DEFAULT_KEEL_HOME).resolve())

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def control_store(self) -> Path:
        return self.root / "control.sqlite"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def landing_dir(self, source: str) -> Path:
        return self.landing / source

    @property
    def landing_rejected(self) -> Path:
        return self.landing / "rejected"

    @property
    def review_inbox(self) -> Path:
        return self.root / "review" / "inbox"

    @property
    def review_processed(self) -> Path:
        return self.root / "review" / "processed"

    @property
    def review_rejected(self) -> Path:
        return self.root / "review" / "rejected"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def dbt_state(self) -> Path:
        """dbt's saved parse of the project for this home's warehouse (reused by the next run)."""
        return self.root / "dbt"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    def ensure(self) -> "KeelHome":
        """Create the layout and the Dagster instance settings; safe to repeat."""
        for folder in (
            self.models,
            self.landing_dir("applications"),
            self.landing_dir("outcomes"),
            self.landing_rejected,
            self.review_inbox,
            self.review_processed,
            self.review_rejected,
            self.reports,
            self.dagster_home,
        ):
            folder.mkdir(parents=True, exist_ok=True)
        settings = self.instance_settings()
        target = self.dagster_home / "dagster.yaml"
        if not target.exists() or target.read_text() != settings:
            target.write_text(settings)
        return self

    def instance_settings(self) -> str:
        """The repository's dagster.yaml, and the storage of this home's instance.

        Dagster's SQLite files in their usual places, through keel's storage
        class (keel/dagster_storage.py), which needs the folder's absolute path.
        """
        base_dir = json.dumps(str(self.dagster_home))  # a JSON string is a YAML string, quoted and escaped
        return (REPO_ROOT / "dagster.yaml").read_text() + (
            "\n# Written by keel for this home (KeelHome.instance_settings).\n"
            "storage:\n"
            "  custom:\n"
            "    module: keel.dagster_storage\n"
            "    class: SqliteStorageReusingEngines\n"
            "    config:\n"
            f"      base_dir: {base_dir}\n"
        )

    def export_env(self) -> None:
        """Point this process (and the subprocesses it starts) at this home."""
        os.environ["KEEL_HOME"] = str(self.root)
        os.environ["DAGSTER_HOME"] = str(self.dagster_home)
