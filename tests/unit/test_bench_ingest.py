"""The scaled benchmark day is the real data's shape and passes its contract; the ingest timer accounts for every row."""

import datetime as dt

import pytest

from keel.bench.ingest import measure_ingest
from keel.bench.scaled_day import scaled_applications
from keel.contracts import apply_contract
from keel.ingest import contract_for
from keel.seed import load_seed_applications

DAY = dt.date(2026, 3, 1)


def test_the_scaled_day_is_seeded_dated_and_uniquely_keyed():
    first = scaled_applications(5_000, DAY, seed=7)
    assert first.equals(scaled_applications(5_000, DAY, seed=7))
    assert not first.equals(scaled_applications(5_000, DAY, seed=8))
    assert first["application_id"].is_unique
    assert set(first["application_date"]) == {DAY.isoformat()}
    seed = load_seed_applications()
    # Drawn from the real rows: categories and missing values come from the data set.
    assert set(first["home"].dropna()) <= set(seed["home"].dropna())
    assert first["income"].isna().any()


def test_ids_fit_the_contract_and_never_collide_with_the_real_data():
    frame = scaled_applications(1_234_567, DAY)
    assert frame["application_id"].iloc[-1] == "A901234567"
    assert frame["application_id"].str.fullmatch(r"A[0-9]{6,9}").all()
    assert not set(frame["application_id"]) & set(load_seed_applications()["application_id"])


def test_every_scaled_row_passes_the_applications_contract():
    frame = scaled_applications(20_000, DAY).astype("str")  # as a CSV reader delivers it
    result = apply_contract(frame, contract_for("applications"), source_file="bench.csv", source_sha256="0" * 64)
    assert result.counts["accepted"] == 20_000 and not result.blocking_errors


def test_rows_out_of_range_are_refused():
    with pytest.raises(ValueError, match="rows must be between 1"):
        scaled_applications(0, DAY)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_ingest_timings_add_up_and_every_row_is_accounted_for(tmp_path, fmt):
    timings = measure_ingest(3_000, tmp_path, fmt)
    assert timings.accepted + timings.quarantined + timings.duplicates == 3_000
    assert timings.accepted == 3_000
    assert set(timings.contract_parts_s) == {"header", "row_hashes", "parse", "validate", "duplicates"}
    assert sum(timings.contract_parts_s.values()) == pytest.approx(timings.contract_s, abs=0.01)
    assert timings.ingest_s == pytest.approx(timings.read_s + timings.contract_s + timings.store_s, abs=0.002)
    assert 0 < timings.validate_share <= timings.contract_share < 1
    assert (tmp_path / "bench.duckdb").exists()
