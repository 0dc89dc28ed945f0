"""Model artifacts on disk: skops files named by the sha256 of their bytes.

A model is stored as `<root>/<sha256>.skops` in the skops format (a zip of a
JSON schema and numpy arrays; never pickle, which runs code when loaded).
Loading is guarded twice before anything is deserialized:
1. the file's bytes must hash to the sha256 the control store recorded, so an
   altered or swapped file is refused (ArtifactTampered) — a missing one
   gives ArtifactMissing;
2. every type the file asks to construct that skops does not trust by
   default must be on keel's explicit allow-list of scikit-learn and numpy
   types (ArtifactUntrusted otherwise).

skops output is not byte-stable on its own: it names arrays and objects by
their memory address (`id()`) and stamps zip entries with the current time.
`canonical_skops_bytes` renumbers those ids in schema order and rewrites the
zip with fixed timestamps, attributes and entry order, so the same fitted
model always gives the same bytes, in any process. Entries are deflated
(a sixth of the stored size); deflate output depends on the zlib version,
which is why training counts zlib among the library versions of a model.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import skops.io
from skops.io.exceptions import UntrustedTypesFoundException

ARTIFACT_SUFFIX = ".skops"
SCHEMA_ENTRY = "schema.json"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
ZIP_COMPRESSION_LEVEL = 6
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ID_NAMED_FILE = re.compile(r"^(\d+)\.(npy|npz)$")

# Types skops does not trust by default that a keel model is made of. Each is
# a scikit-learn or numpy class that holds fitted data and runs no code when
# constructed. A type outside this list is refused, never trusted on the fly;
# add one only after reading what it is (a new scikit-learn release can move
# or rename these, which shows up as ArtifactUntrusted naming the type).
TRUSTED_TYPES: frozenset[str] = frozenset(
    {
        "numpy.dtype",
        "numpy.float64",
        "numpy.int64",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.isotonic.IsotonicRegression",
        "sklearn.model_selection._split.KFold",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.Interval",
    }
)


class ArtifactError(RuntimeError):
    """A model artifact cannot be used; the message names the version, the file and why."""


class ArtifactMissing(ArtifactError):
    pass


class ArtifactTampered(ArtifactError):
    pass


class ArtifactUntrusted(ArtifactError):
    pass


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _renumber(schema: Any) -> tuple[Any, dict[str, str]]:
    """The schema with memory-address ids replaced by 1, 2, 3... in schema order.

    Only skops nodes (dicts with a `__loader__`) are touched, so a fitted
    attribute that happens to be called `file` or `__id__` is left alone.
    Returns the new schema and the old-to-new zip entry names.
    """
    new_ids: dict[int, int] = {}
    renamed_files: dict[str, str] = {}

    def new_id(old: int) -> int:
        # Start at 1: skops skips memoizing an object whose id is falsy.
        return new_ids.setdefault(old, len(new_ids) + 1)

    def new_file_name(old: str) -> str:
        if old not in renamed_files:
            id_named = _ID_NAMED_FILE.match(old)
            if id_named:
                renamed_files[old] = f"{new_id(int(id_named.group(1)))}.{id_named.group(2)}"
            else:  # bytes are stored under a random uuid
                renamed_files[old] = f"blob-{len(renamed_files) + 1}{Path(old).suffix}"
        return renamed_files[old]

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        is_skops_node = "__loader__" in node
        rewritten = {}
        for key, value in node.items():
            if is_skops_node and key == "__id__" and isinstance(value, int):
                rewritten[key] = new_id(value)
            elif is_skops_node and key == "file" and isinstance(value, str):
                rewritten[key] = new_file_name(value)
            else:
                rewritten[key] = walk(value)
        return rewritten

    return walk(schema), renamed_files


def canonical_skops_bytes(raw: bytes) -> bytes:
    """The same skops archive, rewritten so that equal models give equal bytes."""
    with zipfile.ZipFile(io.BytesIO(raw)) as source:
        schema, renamed_files = _renumber(json.loads(source.read(SCHEMA_ENTRY)))
        entries = {SCHEMA_ENTRY: json.dumps(schema, separators=(",", ":"), ensure_ascii=False).encode("utf-8")}
        unreferenced = sorted(set(source.namelist()) - {SCHEMA_ENTRY} - set(renamed_files))
        if unreferenced:
            raise ValueError(f"skops archive holds entries its schema never names: {unreferenced[:5]}")
        for old, new in renamed_files.items():
            entries[new] = source.read(old)

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in [SCHEMA_ENTRY, *sorted(n for n in entries if n != SCHEMA_ENTRY)]:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = 3  # unix, whatever the platform
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, entries[name], compresslevel=ZIP_COMPRESSION_LEVEL)
    return buffer.getvalue()


def serialize(model_pipeline: Any) -> bytes:
    """The canonical skops bytes of a fitted model."""
    return canonical_skops_bytes(skops.io.dumps(model_pipeline))


def refused_types(data: bytes) -> list[str]:
    """The types in an artifact that neither skops nor keel's allow-list trusts."""
    return sorted(set(skops.io.get_untrusted_types(data=data)) - TRUSTED_TYPES)


# Models already deserialized in this process, by the sha256 of their bytes. The
# bytes are still read and hashed on every load, so a file altered since is
# refused; only skops' deserialization (~0.5 s) is skipped. A demo or an
# in-process run of many days loads the same champion twice a day.
LOADED_MODELS_KEPT = 4
_LOADED: OrderedDict[str, Any] = OrderedDict()


class ModelStore:
    """Model artifacts under one folder, content-addressed by sha256."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if not _SHA256.match(sha256 or ""):
            raise ValueError(f"an artifact sha256 is 64 lower-case hex digits; found {sha256!r}")
        return self.root / f"{sha256}{ARTIFACT_SUFFIX}"

    def save(self, model_pipeline: Any, version: str) -> str:
        """Write the model's canonical bytes (once) and return their sha256.

        Saving the same model again is a no-op. The file appears atomically:
        it is written under a temporary name and renamed, so a reader never
        sees half an artifact and a crash leaves no file under the final name.
        """
        data = serialize(model_pipeline)
        sha256 = sha256_of(data)
        path = self.path_for(sha256)
        if path.exists() and sha256_of(path.read_bytes()) == sha256:
            return sha256
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
        return sha256

    def load(self, version: str, expected_sha256: str) -> Any:
        """The fitted model of `version`, after its bytes are verified against the registry's hash."""
        path = self.path_for(expected_sha256)
        if not path.is_file():
            raise ArtifactMissing(
                f"model {version}: artifact {path} is missing (expected sha256 {expected_sha256}, found no file); "
                "retrain the model or restore the file from backup"
            )
        data = path.read_bytes()
        found = sha256_of(data)
        if found != expected_sha256:
            raise ArtifactTampered(
                f"model {version}: artifact {path} has sha256 {found} but the registry expects {expected_sha256}; "
                "the file was altered or replaced, so it is not loaded"
            )
        cached = _LOADED.get(found)
        if cached is not None:
            _LOADED.move_to_end(found)
            return cached
        # skops audits every type in the file against its defaults and keel's allow-list before
        # constructing anything; the types are listed (a second pass) only when it refuses.
        try:
            model_pipeline = skops.io.loads(data, trusted=sorted(TRUSTED_TYPES))
        except UntrustedTypesFoundException:
            raise ArtifactUntrusted(
                f"model {version}: artifact {path} (sha256 {found}) asks to construct types outside keel's allow-list: "
                f"{', '.join(refused_types(data))}; it is not loaded (see TRUSTED_TYPES in keel/models/artifacts.py)"
            ) from None
        _LOADED[found] = model_pipeline
        while len(_LOADED) > LOADED_MODELS_KEPT:
            _LOADED.popitem(last=False)
        return model_pipeline
