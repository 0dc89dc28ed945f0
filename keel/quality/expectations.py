"""Run an expectation suite kept in the repository on a frame, and summarize what failed.

The suite is Great Expectations' own JSON (policies/expectations/*.json), so it
can be edited with GX's documentation at hand. Each expectation's `meta.severity`
(error or warn) says how much a failure matters. Results are summarized without
raw values (the mart holds personal data): counts and percentages of unexpected
rows and observed aggregates only. GX's Data Docs are rebuilt into a folder
under KEEL_HOME so people can browse every validation run: each run's result
is kept as GX's JSON in a folder beside them, since GX drops the page of any
result its store no longer holds.

Great Expectations takes seconds to import, so it is imported when a suite runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from keel.home import REPO_ROOT

# The suite the feature mart is checked against before the model scores a day (the feature_expectations check).
FEATURE_SUITE = REPO_ROOT / "policies" / "expectations" / "application_features.json"
SEVERITY_ERROR = "error"
SEVERITY_WARN = "warn"
DOCS_SITE = "keel"
# The Data Docs index lists this many of the latest validation runs: it is
# rebuilt each day, and takes longer the more runs it lists (a year of runs
# added ~0.8 s to a day's validation, timed in a script). Older runs keep
# their pages, which each check's metadata links.
DOCS_INDEX_RUNS = 90
# Counts and percentages, never sample values: the mart holds personal data.
# BASIC, not SUMMARY: the same counts, without the index lists of unexpected
# rows SUMMARY builds (a million-row day's suite 2.7-3.5 s -> 1.7-2.0 s).
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0, "include_unexpected_rows": False}


class SuiteConfigError(ValueError):
    """The suite file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    severity: str
    success: bool
    observed: Any = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None

    def sentence(self) -> str:
        target = f"column {self.column}" if self.column else "the table"
        found = []
        if self.unexpected_count is not None:
            found.append(f"{self.unexpected_count} unexpected rows ({self.unexpected_percent:.1f}%)")
        if self.observed is not None:
            found.append(f"observed {self.observed}")
        return f"{self.expectation} on {target}: " + ("passed" if self.success else "FAILED, " + ", ".join(found or ["no detail"]))


@dataclass
class SuiteOutcome:
    suite_name: str
    suite_version: str
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    docs_index: Path | None = None
    docs_page: Path | None = None

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    @property
    def success(self) -> bool:
        return not self.failed

    @property
    def severity(self) -> str | None:
        """error if an error-level expectation failed, warn if only warn-level ones did, None if all passed."""
        if any(o.severity == SEVERITY_ERROR for o in self.failed):
            return SEVERITY_ERROR
        return SEVERITY_WARN if self.failed else None

    @property
    def statistics(self) -> dict[str, int]:
        return {"evaluated": len(self.outcomes), "successful": len(self.outcomes) - len(self.failed), "failed": len(self.failed)}


def load_suite_config(path: Path) -> dict:
    """The suite as a dict, with every expectation's severity checked."""
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise SuiteConfigError(f"{path}: expectation suite not found") from error
    except json.JSONDecodeError as error:
        raise SuiteConfigError(f"{path}: not valid JSON at line {error.lineno} column {error.colno}: {error.msg}") from error
    for number, expectation in enumerate(config.get("expectations") or [], start=1):
        severity = (expectation.get("meta") or {}).get("severity")
        if severity not in (SEVERITY_ERROR, SEVERITY_WARN):
            raise SuiteConfigError(
                f"{path}: expectation {number} ({expectation.get('type')}): meta.severity expected 'error' or 'warn', found {severity!r}"
            )
    if not config.get("expectations"):
        raise SuiteConfigError(f"{path}: the suite has no expectations")
    return config


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return None  # lists of observed values may be raw data: left out
    if hasattr(value, "item"):
        value = value.item()
    return round(value, 6) if isinstance(value, float) else value


def suite_columns(config: dict, available: list[str]) -> list[str]:
    """The `available` columns the suite's expectations name, in their order; every column if one is table-wide.

    What a caller reads from the warehouse before validating: a large day's
    provenance columns (file names, hashes) are most of its bytes and no
    expectation reads them.
    """
    available = list(available)
    named: set[str] = set()
    for expectation in config["expectations"]:
        kwargs = expectation.get("kwargs") or {}
        if "column" in kwargs:
            named.add(kwargs["column"])
        elif "column_list" in kwargs or "column_A" in kwargs:
            named.update(kwargs.get("column_list") or [kwargs.get("column_A"), kwargs.get("column_B")])
        elif not expectation.get("type", "").startswith("expect_table_row_count"):
            return available  # a table-wide expectation (columns to match, ...) sees the whole frame
    # A named column the table lacks stays lacking, and GX reports it as it would have.
    return [c for c in available if c in named]


def with_wide_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its narrow NumPy integers and floats widened to 64 bits; other columns as they are.

    Great Expectations checks a range with NumPy only when a column's dtype
    equals Python's int or float (int64, float64); any other dtype, such as
    the int32 DuckDB gives for an integer column, it checks by calling a
    Python function on every value (~1 s for the two integer columns of a
    million-row day's features).
    Widening changes no value, so no outcome.
    """
    wider = {
        name: np.float64 if dtype.kind == "f" else np.int64
        for name, dtype in frame.dtypes.items()
        if isinstance(dtype, np.dtype) and dtype.kind in "iuf" and dtype.itemsize < 8
    }
    return frame.astype(wider) if wider else frame


def with_set_texts_as_categories(frame: pd.DataFrame, config: dict) -> pd.DataFrame:
    """`frame` with each text column the suite expects to hold one of a set of values as a pandas category.

    Great Expectations copies the whole frame once per column expectation (the
    rows with a value in that column); text copies byte by byte, a category
    copies its integer codes. A column an in-set expectation names holds a
    few distinct values by design, so its categories are few and cheap to
    build. The values, and so every outcome, stay the same.
    """
    in_set = {
        (expectation.get("kwargs") or {}).get("column")
        for expectation in config["expectations"]
        if expectation.get("type") == "expect_column_values_to_be_in_set"
    }
    texts = {
        name: "category"
        for name, dtype in frame.dtypes.items()
        if name in in_set and (pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype))
    }
    return frame.astype(texts) if texts else frame


@contextmanager
def _without_batch_fingerprint():
    """While validating, GX does not fingerprint the batch.

    For a pandas batch under a gigabyte GX hashes every value into a batch
    marker (pandas' hash_pandas_object: ~1 s for a million-row day's features)
    that no expectation reads; keel names each validation by its suite and
    day instead. GX keeps the size limit in a module constant, set to zero here
    and restored after; without that constant (another GX), GX fingerprints
    as before.
    """
    from great_expectations.execution_engine import pandas_execution_engine  # noqa: PLC0415

    if not hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        yield
        return
    limit = pandas_execution_engine.HASH_THRESHOLD
    pandas_execution_engine.HASH_THRESHOLD = 0
    try:
        yield
    finally:
        pandas_execution_engine.HASH_THRESHOLD = limit


def _context(results_dir: Path | None):
    """An in-memory GX context; with `results_dir`, one that keeps every validation result there (GX's JSON files)."""
    import great_expectations as gx  # noqa: PLC0415 - seconds to import; only when a suite runs

    if results_dir is None:
        return gx.get_context(mode="ephemeral")
    from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults  # noqa: PLC0415

    stores = InMemoryStoreBackendDefaults(init_temp_docs_sites=False)
    stores.stores["validation_results_store"]["store_backend"] = {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(results_dir)}
    return gx.get_context(mode="ephemeral", project_config=DataContextConfig(store_backend_defaults=stores))


def validate_frame(
    frame: pd.DataFrame, suite_path: Path, docs_dir: Path | None = None, run_name: str = "adhoc", results_dir: Path | None = None
) -> SuiteOutcome:
    """Validate `frame` against the suite; rebuild Data Docs into `docs_dir` when given.

    Data Docs keep a page for each result kept in `results_dir` and list the
    latest DOCS_INDEX_RUNS; without it, only this run's (GX removes the pages
    of results it does not hold).
    """
    config = load_suite_config(suite_path)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx  # noqa: PLC0415 - seconds to import; only when a suite runs
    from great_expectations.core.expectation_suite import ExpectationSuite  # noqa: PLC0415

    context = _context(results_dir)
    context.variables.progress_bars = {"globally": False}
    actions = []
    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(
            site_name=DOCS_SITE,
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder", "validation_results_limit": DOCS_INDEX_RUNS},
            },
        )
        actions.append(gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE]))
    # GX filters and hashes the whole frame for each expectation: hand it only the columns the suite reads.
    frame = with_set_texts_as_categories(with_wide_numbers(frame[suite_columns(config, list(frame.columns))]), config)
    batch = context.data_sources.add_pandas("keel").add_dataframe_asset(config["name"]).add_batch_definition_whole_dataframe("day")
    suite = context.suites.add(ExpectationSuite(name=config["name"], expectations=config["expectations"], meta=config.get("meta") or {}))
    validation = context.validation_definitions.add(gx.ValidationDefinition(name=f"{config['name']}_{run_name}", data=batch, suite=suite))
    checkpoint = context.checkpoints.add(gx.Checkpoint(name=config["name"], validation_definitions=[validation], actions=actions, result_format=RESULT_FORMAT))
    with _without_batch_fingerprint():
        result = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=gx.RunIdentifier(run_name=run_name, run_time=dt.datetime.now(dt.timezone.utc)))
    outcome = SuiteOutcome(suite_name=config["name"], suite_version=str((config.get("meta") or {}).get("version", "unversioned")))
    for identifier, validation_result in result.run_results.items():
        if docs_dir is not None:
            outcome.docs_page = _page_of(context, identifier)
        for item in validation_result.results:
            expectation = item.expectation_config
            kwargs = {k: v for k, v in expectation.kwargs.items() if k != "batch_id"}
            details = item.result or {}
            outcome.outcomes.append(
                ExpectationOutcome(
                    expectation=expectation.type,
                    column=kwargs.get("column"),
                    severity=(expectation.meta or {}).get("severity", SEVERITY_ERROR),
                    success=bool(item.success),
                    observed=_plain(details.get("observed_value")),
                    unexpected_count=details.get("unexpected_count"),
                    unexpected_percent=_plain(details.get("unexpected_percent")),
                )
            )
    if docs_dir is not None and (docs_dir / "index.html").exists():
        outcome.docs_index = docs_dir / "index.html"
    return outcome


def _page_of(context, identifier) -> Path | None:
    """The Data Docs page of one validation result, if it was written."""
    from urllib.parse import unquote, urlparse  # noqa: PLC0415

    for site in context.get_docs_sites_urls(resource_identifier=identifier, site_names=[DOCS_SITE], only_if_exists=True):
        url = urlparse(site.get("site_url") or "")
        if url.scheme == "file":
            return Path(unquote(url.path))
    return None
