"""The contract as a pandera DataFrameSchema, validated lazily so every failure is seen at once.

The schema checks values already parsed into the contract's types (see
keel.contracts.parsing): null where the column may not be empty, ranges,
categories and patterns. Each check carries the keel check name as its error
text, so pandera's failure cases map straight onto quarantine records.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.pandas as pa

from keel.contracts.checks import ALLOWED_VALUES, NOT_NULL, PATTERN, RANGE
from keel.contracts.contract import ColumnSpec, Contract
from keel.contracts.parsing import PANDAS_DTYPES

# pandera's name for a null in a column that may not hold one.
_PANDERA_NOT_NULL = "not_nullable"
_KEEL_CHECKS = {NOT_NULL, RANGE, ALLOWED_VALUES, PATTERN}


@lru_cache(maxsize=32)
def compile_schema(contract: Contract) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {spec.name: _column(spec) for spec in contract.columns},
        name=f"{contract.name} {contract.version}",
        description=contract.description,
        strict=False,
        coerce=False,
        metadata={"contract_sha256": contract.sha256, "owner": contract.owner},
    )


def _column(spec: ColumnSpec) -> pa.Column:
    checks = []
    if spec.min is not None and spec.max is not None:
        checks.append(pa.Check.in_range(spec.min, spec.max, error=RANGE))
    elif spec.min is not None:
        checks.append(pa.Check.ge(spec.min, error=RANGE))
    elif spec.max is not None:
        checks.append(pa.Check.le(spec.max, error=RANGE))
    if spec.categories is not None and spec.new_categories == "quarantine":
        checks.append(pa.Check.isin(list(spec.categories), error=ALLOWED_VALUES))
    if spec.pattern is not None:
        checks.append(pa.Check.str_matches(f"^(?:{spec.pattern})$", error=PATTERN))
    return pa.Column(
        PANDAS_DTYPES[spec.type],
        checks=checks,
        nullable=spec.nullable,
        required=True,
        description=spec.description,
        metadata={"pii": spec.pii},
    )


def schema_failures(contract: Contract, typed: pd.DataFrame) -> pd.DataFrame:
    """(position, column, check) of every failed value in `typed` (indexed by row position)."""
    try:
        compile_schema(contract).validate(typed, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    else:
        return pd.DataFrame({"position": np.array([], dtype="int64"), "column": pd.Series(dtype="str"), "check": pd.Series(dtype="str")})
    checks = cases["check"].astype("str").replace({_PANDERA_NOT_NULL: NOT_NULL})
    unexpected = ~checks.isin(_KEEL_CHECKS) | cases["index"].isna()
    if unexpected.any():
        # The frame is built from the contract, so anything else is a bug here, not bad data.
        raise RuntimeError(f"unexpected schema failures for contract {contract.name}: {cases[unexpected].head(5).to_dict('records')}")
    return pd.DataFrame(
        {"position": cases["index"].astype("int64").to_numpy(), "column": cases["column"].astype("str").to_numpy(), "check": checks.to_numpy()}
    )
