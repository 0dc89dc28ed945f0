"""Building million-row text columns from a handful of distinct values, cheaply.

Routes, suggested decisions and reason codes take few distinct values, so a
column is built as "value number i of this short list" and expanded in C by
pyarrow (which backs pandas' str dtype), instead of creating a Python string
per row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def text_column(choices: Sequence[str], picks: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A str-dtype array whose row i is choices[picks[i]]."""
    picks = np.asarray(picks)
    try:
        import pyarrow as pa
    except ImportError:  # pandas without pyarrow keeps str in Python objects
        return pd.array(np.array(list(choices), dtype=object)[picks], dtype="str")
    dictionary = pa.DictionaryArray.from_arrays(pa.array(picks.astype(np.int32)), pa.array(list(choices), type=pa.large_string()))
    return pd.array(dictionary.cast(pa.large_string()), dtype="str")
