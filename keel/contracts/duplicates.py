"""Which rows repeat a key already delivered in the same file, and which row of each key is kept.

Only rows that passed the contract take part: a broken first copy must not
push out a good second one. The contract's rule decides the winner: `first`
by row order (a retried export), or `latest` by a column (a corrected record
sent again with a later date; on a tie the later row wins).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from keel.contracts.contract import DuplicateRule


@dataclass(frozen=True)
class DuplicateRows:
    dropped: np.ndarray  # row positions dropped as duplicates, ascending
    kept_for_dropped: np.ndarray  # for each dropped position, the position of the row kept


def find_duplicates(keys: pd.Series, order_by: pd.Series | None, rule: DuplicateRule, candidates: np.ndarray) -> DuplicateRows:
    """Duplicates among the rows at `candidates` (positions into `keys`, ascending)."""
    none = DuplicateRows(np.array([], dtype="int64"), np.array([], dtype="int64"))
    if len(pc.unique(pa.array(keys.array))) == len(keys):
        return none  # the usual day: every key once (Arrow's hash is the fastest way to know)
    # Narrow to keys that repeat anywhere in the file (one pass, no copy of the key column),
    # then decide among the candidates only: a repeat of a quarantined row is no duplicate.
    anywhere = keys.duplicated(keep=False).to_numpy()
    suspects = candidates[anywhere[candidates]]
    suspect_keys = keys.iloc[suspects].to_numpy(dtype=object)
    repeated = pd.Series(suspect_keys).duplicated(keep=False).to_numpy()
    if not repeated.any():
        return none
    group = pd.DataFrame({"position": suspects[repeated], "key": suspect_keys[repeated]})
    if rule.keep == "latest":
        group["by"] = order_by.to_numpy()[group["position"].to_numpy()]
        # Stable sort: within a key, ascending `by`, then row order; the last one is the latest.
        group = group.sort_values(["by", "position"], kind="stable", na_position="first")
        kept = group.groupby("key", sort=False)["position"].transform("last")
    else:
        kept = group.groupby("key", sort=False)["position"].transform("first")
    dropped = group["position"].to_numpy() != kept.to_numpy()
    order = np.argsort(group["position"].to_numpy()[dropped], kind="stable")
    return DuplicateRows(group["position"].to_numpy()[dropped][order], kept.to_numpy()[dropped][order])
