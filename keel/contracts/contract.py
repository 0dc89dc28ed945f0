"""A data contract: what one source promises about its landing files, loaded from YAML.

The contract is owned by the business side of the source (its `owner`) and
versioned like an API: the columns, their types, ranges and categories, the
names the source has used for them before (aliases), which columns carry
personal data, the key, and what to do when a key arrives twice. Everything
the ingestion decides about a row follows from this file, and the sha256 of its
bytes is recorded with every load, so a changed contract is visible in lineage.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

COLUMN_TYPES = ("string", "integer", "float", "date", "boolean")
KEEP_RULES = ("first", "latest")
NEW_CATEGORY_RULES = ("quarantine", "report")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_COLUMN_KEYS = {
    "name", "type", "nullable", "required", "pii", "description", "aliases",
    "min", "max", "categories", "new_categories", "pattern", "date_format",
}  # fmt: skip
_CONTRACT_KEYS = {"name", "version", "owner", "description", "key", "duplicates", "null_values", "columns", "delivery"}


def normalize_column_name(name: str) -> str:
    """A column name as compared: case, surrounding blanks and inner spaces or hyphens do not matter."""
    return re.sub(r"[\s\-]+", "_", str(name).strip()).lower()


class ContractError(ValueError):
    """A contract file that is not a valid contract; the message names the file and the field."""


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a source: its type and the values it may hold."""

    name: str
    type: str
    nullable: bool = True
    required: bool = True  # a required column missing from a file blocks the file
    pii: bool = False
    description: str = ""
    aliases: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    categories: tuple[str, ...] | None = None
    new_categories: str = "quarantine"  # or "report": accept values outside `categories`, and say so
    pattern: str | None = None  # the whole value must match
    date_format: str = "%Y-%m-%d"

    @property
    def names(self) -> tuple[str, ...]:
        """Every name this column may arrive under, the contract's own first."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class DuplicateRule:
    """Which row wins when the key arrives more than once in a file."""

    keep: str = "first"  # first by row order, or latest by `by`
    by: str | None = None

    def describe(self) -> str:
        if self.keep == "first":
            return "keep first by row order"
        return f"keep latest by {self.by} (on a tie, the later row)"


@dataclass(frozen=True)
class Delivery:
    """When the source promises each day's file: by `cutoff_utc` on the day `due_days_after` the file's day.

    `daily` says whether a file is expected every day; a source that only sends a
    file when it has something (repayment outcomes) has no outage to detect.
    """

    daily: bool = False
    due_days_after: int = 1
    cutoff_utc: str = "06:00"


@dataclass(frozen=True)
class Contract:
    name: str
    version: str
    owner: str
    description: str
    key: str
    columns: tuple[ColumnSpec, ...]
    duplicates: DuplicateRule
    null_values: tuple[str, ...]
    path: str
    sha256: str
    delivery: Delivery = Delivery()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def pii_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.pii)

    def column(self, name: str) -> ColumnSpec:
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise KeyError(f"contract {self.name} v{self.version} has no column {name!r}")


def load_contract(path: Path | str) -> Contract:
    """The contract in `path`, checked for consistency; ContractError naming the field otherwise."""
    path = Path(path)
    data = path.read_bytes()
    try:
        document = yaml.safe_load(data)
    except yaml.YAMLError as error:
        raise ContractError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise ContractError(f"{path}: expected a mapping with {', '.join(sorted(_CONTRACT_KEYS))}; found {type(document).__name__}")
    return _build(document, str(path), hashlib.sha256(data).hexdigest())


def _build(document: dict, where: str, sha256: str) -> Contract:
    def fail(field: str, message: str) -> ContractError:
        return ContractError(f"{where}: {field}: {message}")

    unknown = set(document) - _CONTRACT_KEYS
    if unknown:
        raise fail(", ".join(sorted(unknown)), f"unknown field; expected only {', '.join(sorted(_CONTRACT_KEYS))}")
    for field in ("name", "version", "owner", "key"):
        if not isinstance(document.get(field), str) or not document[field].strip():
            raise fail(field, f"required text, found {document.get(field)!r}")
    if not _SEMVER.match(document["version"]):
        raise fail("version", f"expected a semantic version like 1.2.0, found {document['version']!r}")
    raw_columns = document.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise fail("columns", f"expected a non-empty list of columns, found {raw_columns!r}")
    columns = tuple(_column(raw, f"columns[{i}]", fail) for i, raw in enumerate(raw_columns))
    _check_names(columns, fail)
    key = document["key"]
    if key not in {c.name for c in columns}:
        raise fail("key", f"{key!r} is not one of the columns")
    key_spec = next(c for c in columns if c.name == key)
    if key_spec.nullable or not key_spec.required:
        raise fail("key", f"the key column {key!r} must be required and not nullable")
    duplicates = _duplicate_rule(document.get("duplicates") or {}, {c.name for c in columns}, fail)
    null_values = document.get("null_values", [""])
    if not isinstance(null_values, list) or not all(isinstance(v, str) for v in null_values):
        raise fail("null_values", f"expected a list of texts, found {null_values!r}")
    return Contract(
        name=document["name"],
        version=document["version"],
        owner=document["owner"],
        description=str(document.get("description") or "").strip(),
        key=key,
        columns=columns,
        duplicates=duplicates,
        null_values=tuple(null_values),
        path=where,
        sha256=sha256,
        delivery=_delivery(document.get("delivery") or {}, fail),
    )


def _delivery(raw: dict, fail) -> Delivery:
    unknown = set(raw) - {"daily", "due_days_after", "cutoff_utc"}
    if unknown:
        raise fail("delivery", f"unknown field {', '.join(sorted(unknown))}; expected only daily, due_days_after, cutoff_utc")
    delivery = Delivery(
        daily=raw.get("daily", False),
        due_days_after=raw.get("due_days_after", 1),
        cutoff_utc=str(raw.get("cutoff_utc", "06:00")),
    )
    if not isinstance(delivery.daily, bool):
        raise fail("delivery.daily", f"expected true or false, found {delivery.daily!r}")
    if not isinstance(delivery.due_days_after, int) or not 0 <= delivery.due_days_after <= 30:
        raise fail("delivery.due_days_after", f"expected a whole number of days from 0 to 30, found {delivery.due_days_after!r}")
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", delivery.cutoff_utc):
        raise fail("delivery.cutoff_utc", f"expected a time of day HH:MM (UTC), found {delivery.cutoff_utc!r}")
    return delivery


def _column(raw, field: str, fail) -> ColumnSpec:
    if not isinstance(raw, dict):
        raise fail(field, f"expected a mapping, found {raw!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise fail(field, f"name must be lower_snake_case text, found {name!r}")
    field = f"{field} ({name})"
    unknown = set(raw) - _COLUMN_KEYS
    if unknown:
        raise fail(field, f"unknown field {', '.join(sorted(unknown))}; expected only {', '.join(sorted(_COLUMN_KEYS))}")
    kind = raw.get("type")
    if kind not in COLUMN_TYPES:
        raise fail(field, f"type must be one of {', '.join(COLUMN_TYPES)}, found {kind!r}")
    for flag in ("nullable", "required", "pii"):
        if flag in raw and not isinstance(raw[flag], bool):
            raise fail(field, f"{flag} must be true or false, found {raw[flag]!r}")
    if "pii" not in raw:
        raise fail(field, "pii must be stated (true or false) for every column")
    low, high = raw.get("min"), raw.get("max")
    for bound, value in (("min", low), ("max", high)):
        if value is not None and (kind not in ("integer", "float") or isinstance(value, bool) or not isinstance(value, (int, float))):
            raise fail(field, f"{bound} needs a number on an integer or float column, found {value!r} on a {kind} column")
    if low is not None and high is not None and low > high:
        raise fail(field, f"min {low} is above max {high}")
    categories = raw.get("categories")
    if categories is not None:
        if kind != "string" or not isinstance(categories, list) or not categories or not all(isinstance(c, str) for c in categories):
            raise fail(field, f"categories needs a non-empty list of texts on a string column, found {categories!r}")
    new_categories = raw.get("new_categories", "quarantine")
    if new_categories not in NEW_CATEGORY_RULES:
        raise fail(field, f"new_categories must be one of {', '.join(NEW_CATEGORY_RULES)}, found {new_categories!r}")
    if new_categories == "report" and categories is None:
        raise fail(field, "new_categories: report needs a list of categories")
    pattern = raw.get("pattern")
    if pattern is not None:
        if kind != "string" or not isinstance(pattern, str):
            raise fail(field, f"pattern needs a regular expression on a string column, found {pattern!r}")
        try:
            re.compile(pattern)
        except re.error as error:
            raise fail(field, f"pattern {pattern!r} is not a regular expression: {error}") from None
    aliases = raw.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise fail(field, f"aliases must be a list of names, found {aliases!r}")
    return ColumnSpec(
        name=name,
        type=kind,
        nullable=raw.get("nullable", True),
        required=raw.get("required", True),
        pii=raw["pii"],
        description=str(raw.get("description") or ""),
        aliases=tuple(aliases),
        min=low,
        max=high,
        categories=tuple(categories) if categories is not None else None,
        new_categories=new_categories,
        pattern=pattern,
        date_format=raw.get("date_format", "%Y-%m-%d"),
    )


def _check_names(columns: tuple[ColumnSpec, ...], fail) -> None:
    """Every name (own or alias) must point at exactly one column, however the source cases it."""
    owner: dict[str, str] = {}
    for spec in columns:
        if normalize_column_name(spec.name) in owner:
            raise fail("columns", f"column {spec.name!r} is listed twice")
        for normal in {normalize_column_name(name) for name in spec.names}:
            if normal in owner:
                raise fail("columns", f"the name {normal!r} is claimed by both {owner[normal]!r} and {spec.name!r}")
            owner[normal] = spec.name


def _duplicate_rule(raw, column_names: set[str], fail) -> DuplicateRule:
    if not isinstance(raw, dict):
        raise fail("duplicates", f"expected a mapping with keep (and by), found {raw!r}")
    keep, by = raw.get("keep", "first"), raw.get("by")
    if keep not in KEEP_RULES:
        raise fail("duplicates.keep", f"expected one of {', '.join(KEEP_RULES)}, found {keep!r}")
    if keep == "latest" and by not in column_names:
        raise fail("duplicates.by", f"keep: latest needs `by` naming a column, found {by!r}")
    if keep == "first" and by is not None:
        raise fail("duplicates.by", "keep: first goes by row order and takes no `by`")
    return DuplicateRule(keep=keep, by=by)
