"""Declarative policy conditions: each operator, missing values, and combinations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from keel.policy import PolicyApplicationError, PolicyFieldError, parse_condition

FRAME = pd.DataFrame(
    {
        "income": [100.0, np.nan, 300.0, 0.0],
        "job": pd.array(["fixed", "partime", None, "others"], dtype="str"),
        "has_records": pd.array([0, 1, None, 0], dtype="Int64"),
    }
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"column": "income", "op": "is_null"}, [False, True, False, False]),
        ({"column": "income", "op": "not_null"}, [True, False, True, True]),
        ({"column": "income", "op": ">", "value": 100}, [False, False, True, False]),
        ({"column": "income", "op": ">=", "value": 100}, [True, False, True, False]),
        ({"column": "income", "op": "<", "value": 100}, [False, False, False, True]),
        ({"column": "income", "op": "<=", "value": 0}, [False, False, False, True]),
        ({"column": "income", "op": "==", "value": 300}, [False, False, True, False]),
        ({"column": "income", "op": "!=", "value": 300}, [True, False, False, True]),
        ({"column": "has_records", "op": "==", "value": 1}, [False, True, False, False]),
        ({"column": "job", "op": "==", "value": "fixed"}, [True, False, False, False]),
        ({"column": "job", "op": "!=", "value": "fixed"}, [False, True, False, True]),
        ({"column": "job", "op": "in", "value": ["partime", "others"]}, [False, True, False, True]),
        ({"column": "job", "op": "not_in", "value": ["partime", "others"]}, [True, False, False, False]),
        ({"all": [{"column": "income", "op": "not_null"}, {"column": "job", "op": "==", "value": "fixed"}]}, [True, False, False, False]),
        ({"any": [{"column": "income", "op": "is_null"}, {"column": "income", "op": "<=", "value": 0}]}, [False, True, False, True]),
    ],
)
def test_condition_masks_never_fire_a_comparison_on_a_missing_value(raw, expected):
    assert parse_condition(raw, "rule").mask(FRAME).tolist() == expected


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"column": "income", "op": "between"}, "rule.op"),
        ({"column": "income", "op": ">"}, "rule.value"),
        ({"column": "income", "op": "is_null", "value": 1}, "rule.value"),
        ({"column": "job", "op": "in", "value": "fixed"}, "rule.value"),
        ({"op": "is_null"}, "rule.column"),
        ({"any": []}, "rule.any"),
        ({"any": [{"column": "x", "op": "??"}]}, "rule.any[0].op"),
        ({"column": "income", "op": "is_null", "note": "x"}, "rule"),
    ],
)
def test_malformed_conditions_name_their_key(raw, key):
    with pytest.raises(PolicyFieldError) as failure:
        parse_condition(raw, "rule")
    assert failure.value.key == key


def test_numeric_comparison_on_a_text_column_is_refused():
    with pytest.raises(PolicyApplicationError, match="'job'.*str"):
        parse_condition({"column": "job", "op": ">", "value": 1}, "rule").mask(FRAME)
