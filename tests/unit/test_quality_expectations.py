"""The feature mart's expectation suite, run through Great Expectations on real rows."""

import contextlib
import json

import pandas as pd
import pytest

from keel.home import REPO_ROOT
from keel.models.seed_features import seed_feature_frame
from keel.quality import validate_frame
from keel.quality.expectations import SuiteConfigError, load_suite_config

SUITE = REPO_ROOT / "policies" / "expectations" / "application_features.json"


@pytest.fixture(scope="module")
def day() -> pd.DataFrame:
    return seed_feature_frame().head(150).reset_index(drop=True)


def test_a_real_day_meets_the_suite_and_data_docs_are_written(day, tmp_path):
    outcome = validate_frame(day, SUITE, tmp_path / "docs", run_name="2026-01-01")
    assert outcome.success, [o.sentence() for o in outcome.failed]
    assert outcome.statistics["evaluated"] == len(load_suite_config(SUITE)["expectations"])
    assert outcome.docs_index is not None and outcome.docs_index.exists()
    assert list((tmp_path / "docs" / "validations").rglob("*.html"))


def test_each_run_keeps_its_data_docs_page_and_the_index_lists_every_run(day, tmp_path):
    docs, results = tmp_path / "docs", tmp_path / "results"
    first = validate_frame(day, SUITE, docs, run_name="2026-01-01", results_dir=results)
    second = validate_frame(day, SUITE, docs, run_name="2026-01-02", results_dir=results)
    assert first.docs_page.is_file() and second.docs_page.is_file(), "the first day's page outlives the next day's run"
    assert first.docs_page.parts[-3] == "2026-01-01" and second.docs_page.parts[-3] == "2026-01-02"
    index = second.docs_index.read_text()
    assert first.docs_page.relative_to(docs).as_posix() in index and second.docs_page.relative_to(docs).as_posix() in index
    assert len(list(results.rglob("*.json"))) == 2, "one result kept per run"


def test_a_warn_level_failure_is_a_warning_and_shows_no_raw_values(day, tmp_path):
    shifted = day.assign(job=["gig"] * 20 + list(day["job"][20:]))
    outcome = validate_frame(shifted, SUITE, run_name="drift")
    assert outcome.severity == "warn"
    (failure,) = outcome.failed
    assert failure.column == "job" and failure.unexpected_count == 20
    assert "gig" not in failure.sentence()
    assert "20 unexpected rows (13.4%)" in failure.sentence()


def test_data_docs_of_a_failure_show_counts_and_no_raw_values(day, tmp_path):
    shifted = day.assign(job=["gig"] * 20 + list(day["job"][20:]), home=["castle"] * 3 + list(day["home"][3:]))
    outcome = validate_frame(shifted, SUITE, tmp_path / "docs", run_name="drift")
    failures = {failure.column: failure.unexpected_count for failure in outcome.failed}
    assert failures == {"job": 20, "home": 3}
    pages = "".join(page.read_text() for page in (tmp_path / "docs" / "validations").rglob("*.html"))
    assert "job" in pages and "home" in pages
    assert "gig" not in pages and "castle" not in pages


def test_an_error_level_failure_is_an_error(day, tmp_path):
    broken = day.assign(age=[7] + list(day["age"][1:]))
    outcome = validate_frame(broken, SUITE, run_name="broken")
    assert outcome.severity == "error"
    assert any(o.column == "age" and o.expectation == "expect_column_values_to_be_between" for o in outcome.failed)


def test_too_few_rows_fail_the_volume_expectation(day):
    outcome = validate_frame(day.head(5), SUITE, run_name="thin")
    assert outcome.severity == "error"
    assert any(o.expectation == "expect_table_row_count_to_be_between" and o.observed == 5 for o in outcome.failed)


def test_an_expectation_without_severity_is_refused(tmp_path):
    config = json.loads(SUITE.read_text())
    del config["expectations"][2]["meta"]["severity"]
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(config))
    with pytest.raises(SuiteConfigError, match=r"expectation 3 \(expect_column_values_to_be_unique\): meta.severity expected 'error' or 'warn', found None"):
        load_suite_config(path)


def test_the_suite_sees_only_the_columns_it_names_and_a_missing_one_still_fails(day):
    from keel.quality.expectations import suite_columns

    config = load_suite_config(SUITE)
    named = suite_columns(config, list(day.columns))
    assert "application_id" in named and "age" in named
    assert len(named) < len(day.columns), "columns no expectation reads are not handed to GX"
    table_wide = {**config, "expectations": [*config["expectations"], {"type": "expect_table_columns_to_match_set", "kwargs": {"column_set": ["a"]}}]}
    assert suite_columns(table_wide, list(day.columns)) == list(day.columns)
    outcome = validate_frame(day.drop(columns=["age"]), SUITE, run_name="no-age")
    assert outcome.severity == "error" and any(o.column == "age" for o in outcome.failed)


def test_narrow_numbers_are_widened_for_gx_and_judged_the_same(day, monkeypatch):
    from keel.quality import expectations
    from keel.quality.expectations import with_wide_numbers

    ages = day["age"].to_numpy(dtype="int64", copy=True)
    ages[:3] = [7, 150, 151]  # outside the suite's range for age
    narrow = day.assign(age=ages).astype({"age": "int32", "loan_term_months": "int16", "loan_to_price": "float32"})
    widened = with_wide_numbers(narrow)
    assert str(widened["age"].dtype) == "int64" and str(widened["loan_term_months"].dtype) == "int64"
    assert str(widened["loan_to_price"].dtype) == "float64"
    untouched = [c for c in narrow.columns if c not in ("age", "loan_term_months", "loan_to_price")]
    assert (widened[untouched].dtypes == narrow[untouched].dtypes).all()
    assert widened["age"].tolist() == narrow["age"].tolist()

    def judged(frame):
        return [(o.expectation, o.column, o.success, o.unexpected_count) for o in validate_frame(frame, SUITE, run_name="narrow").outcomes]

    with monkeypatch.context() as unwidened:
        unwidened.setattr(expectations, "with_wide_numbers", lambda frame: frame)
        value_by_value = judged(narrow)  # what GX gave on DuckDB's int32 columns, a Python call per value
    assert ("expect_column_values_to_be_between", "age", False, 3) in value_by_value
    mapped = []
    series_map = pd.Series.map
    monkeypatch.setattr(pd.Series, "map", lambda self, func, *a, **k: mapped.append(getattr(func, "__name__", "")) or series_map(self, func, *a, **k))
    assert judged(narrow) == value_by_value
    assert "is_between" not in mapped, "GX checked a range value by value in Python"


def test_texts_from_a_set_are_categories_for_gx_and_judged_the_same(day, monkeypatch):
    from keel.quality import expectations
    from keel.quality.expectations import with_set_texts_as_categories

    config = load_suite_config(SUITE)
    shifted = day.assign(job=["gig"] * 20 + list(day["job"][20:]), home=["castle", None] + list(day["home"][2:]))
    categorized = with_set_texts_as_categories(shifted, config)
    assert {c for c in categorized.columns if isinstance(categorized[c].dtype, pd.CategoricalDtype)} == {"home", "marital", "job", "age_band"}
    assert not isinstance(categorized["application_id"].dtype, pd.CategoricalDtype), "an id is not from a set"
    pd.testing.assert_series_equal(categorized["home"].astype(shifted["home"].dtype), shifted["home"])

    def judged(frame):
        return [(o.expectation, o.column, o.success, o.unexpected_count, o.unexpected_percent) for o in validate_frame(frame, SUITE, run_name="sets").outcomes]

    with monkeypatch.context() as as_text:
        as_text.setattr(expectations, "with_set_texts_as_categories", lambda frame, config: frame)
        as_text_judged = judged(shifted)
    assert judged(shifted) == as_text_judged
    assert ("expect_column_values_to_be_in_set", "job", False, 20) in [o[:4] for o in as_text_judged]
    assert ("expect_column_values_to_be_in_set", "home", False, 1) in [o[:4] for o in as_text_judged]


def test_gx_does_not_fingerprint_the_batch_and_its_limit_is_restored(day, monkeypatch):
    from great_expectations.execution_engine import pandas_execution_engine

    from keel.quality import expectations

    fingerprinted = []
    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", lambda frame: fingerprinted.append(len(frame)) or "fingerprint")
    limit = pandas_execution_engine.HASH_THRESHOLD
    outcome = validate_frame(day, SUITE, run_name="unprinted")
    assert outcome.success and fingerprinted == []
    assert pandas_execution_engine.HASH_THRESHOLD == limit
    with monkeypatch.context() as printing:
        printing.setattr(expectations, "_without_batch_fingerprint", contextlib.nullcontext)
        validate_frame(day, SUITE, run_name="printed")
    assert fingerprinted == [len(day)], "without keel's setting GX fingerprints the batch: the test above can fail"
