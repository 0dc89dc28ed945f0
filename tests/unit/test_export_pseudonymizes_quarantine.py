"""An evidence bundle's quarantine hides the values found in its reasons too, not only in `value_found`."""

import pandas as pd

from keel.audit.export import contract_names, pseudonym, pseudonymize_quarantine
from keel.ingest import contract_for
from tests.unit.test_contracts_apply import apply, rows

KEY = b"k" * 32
NAMES = contract_names(contract_for("applications"))


def _hidden(quarantine: pd.DataFrame) -> pd.DataFrame:
    return pseudonymize_quarantine(quarantine, KEY, NAMES)


def test_a_rows_value_is_replaced_in_its_reason_by_the_pseudonym_in_value_found():
    quarantine = apply(rows({"age": "17"}, {"income": "O'Brien 1200"}, {"home": "castle"})).quarantine
    hidden = _hidden(quarantine)
    for value, reason, original in zip(hidden["value_found"], hidden["reason"], quarantine["value_found"]):
        assert value == pseudonym(original, KEY) and f"found '{value}'" in reason
        assert original not in reason
    assert "column age: expected a whole number between 18 and 100" in hidden["reason"].iloc[0], "what was expected stays readable"


def test_a_blocked_files_examples_are_hidden_and_column_names_and_prose_stay():
    quarantine = apply(rows({"income": "x1"}, {"income": "y'2"})).quarantine
    (reason,) = set(_hidden(quarantine)["reason"])
    assert "x1" not in reason and "y'2" not in reason
    assert f"(found '{pseudonym('x1', KEY)}', '{pseudonym(chr(121) + chr(39) + '2', KEY)}')" in reason
    assert "column 'income' should hold a number" in reason and "the column's type" in reason and "the contract's type" in reason


def test_a_missing_column_reason_names_columns_only_and_is_kept_as_it_was():
    quarantine = apply(rows({}).drop(columns=["age"])).quarantine
    assert _hidden(quarantine)["reason"].tolist() == quarantine["reason"].tolist()


def test_an_empty_quarantine_is_returned_as_it_is():
    empty = apply(rows({})).quarantine
    assert _hidden(empty) is empty


def test_a_long_value_quoted_cut_short_is_hidden_whole():
    long_value = "O'Brien's castle " * 20  # longer than a reason quotes, with quotes of its own
    quarantine = apply(rows({"home": long_value})).quarantine
    assert f"'{long_value[:200]}…'" in quarantine["reason"].iloc[0], "the reason quotes the value cut short"
    (reason,) = _hidden(quarantine)["reason"]
    assert "Brien" not in reason and "castle" not in reason
    assert f"found '{pseudonym(long_value, KEY)}'" in reason
