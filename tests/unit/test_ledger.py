import pandas as pd

from keel.ledger import GENESIS_DIGEST, next_batch, rows_sha256, verify_chain, verify_excerpt


def _rows(day, ids, route="approve"):
    return pd.DataFrame({"event_type": "decision", "ledger_day": day, "application_id": ids, "route": route, "score": 0.1})


def _build(days):
    batches, rows, last = [], [], None
    for day, frame in days:
        batch = next_batch(frame, day, last)
        batches.append(batch.__dict__)
        rows.append(frame.assign(batch_seq=batch.batch_seq))
        last = batch
    return pd.DataFrame(batches), pd.concat(rows, ignore_index=True)


def test_rows_hash_ignores_row_order_but_not_content():
    a = _rows("2026-01-01", ["A1", "A2"])
    assert rows_sha256(a) == rows_sha256(a.iloc[::-1])
    changed = a.copy()
    changed.loc[0, "score"] = 0.1000001
    assert rows_sha256(changed) != rows_sha256(a)


def test_an_untouched_chain_verifies():
    batches, rows = _build([("2026-01-01", _rows("2026-01-01", ["A1", "A2"])), ("2026-01-02", _rows("2026-01-02", ["A3"]))])
    report = verify_chain(batches, rows)
    assert report.ok and report.batches_checked == 2
    assert batches.iloc[0]["previous_digest"] == GENESIS_DIGEST
    assert batches.iloc[1]["previous_digest"] == batches.iloc[0]["digest"]


def test_an_altered_row_names_the_first_broken_day():
    batches, rows = _build(
        [(d, _rows(d, [f"A{i}"])) for i, d in enumerate(["2026-01-01", "2026-01-02", "2026-01-03"])]
    )
    rows.loc[rows["ledger_day"] == "2026-01-02", "route"] = "decline"
    report = verify_chain(batches, rows)
    assert not report.ok
    assert report.first_broken_day == "2026-01-02"
    assert "rows hash" in report.reason


def test_a_deleted_row_is_caught():
    batches, rows = _build([("2026-01-01", _rows("2026-01-01", ["A1", "A2"]))])
    report = verify_chain(batches, rows.iloc[:1])
    assert not report.ok and "2 rows recorded, 1 found" in report.reason


def _four_days():
    return _build([(d, _rows(d, [f"A{i}", f"B{i}"])) for i, d in enumerate(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"])])


def test_an_excerpt_of_days_verifies_without_the_batches_between():
    batches, rows = _four_days()
    kept = batches[batches["batch_seq"].isin([2, 4])]
    assert verify_excerpt(kept, rows[rows["batch_seq"].isin([2, 4])]) == []


def test_an_excerpt_names_an_altered_row_a_broken_link_and_unchained_rows():
    batches, rows = _four_days()
    rows.loc[rows["ledger_day"] == "2026-01-03", "route"] = "decline"
    batches.loc[batches["batch_seq"] == 2, "previous_digest"] = "0" * 64
    problems = verify_excerpt(batches[batches["batch_seq"] != 4], rows)
    assert problems[0].startswith("ledger batch 2 (2026-01-02): chain link to the previous batch does not match")
    assert problems[1].startswith("ledger batch 3 (2026-01-03): rows hash")
    assert problems[2] == "ledger rows of batch 4: no such batch in the bundle (2 rows)"
    assert len(problems) == 3


def test_canonical_lines_are_exactly_one_json_array_per_row():
    import json

    import numpy as np
    import pandas as pd

    from keel.ledger import LEDGER_COLUMNS, _canonical_cell, canonical_rows

    every_control = "".join(chr(code) for code in range(0x20)) + "\x7f end"
    frame = pd.DataFrame({c: ["plain", 'quote " and \\\\ backslash', "ünïcödé ✓", None, every_control] for c in LEDGER_COLUMNS})
    frame["score"] = [0.1234567890123, np.nan, 1.0, 0.5, 1e-07]
    frame["source_row_number"] = pd.array([1, 2, None, 4, 5], dtype="Int64")
    frame["reason_codes"] = ['["A", "B"]', "[]", "],[", "\n", ""]
    frame["run_ids"] = ["r1", 2, 3.5, None, "r5"]  # numbers among the text
    expected = [
        json.dumps([_canonical_cell(v) for v in row], ensure_ascii=False, separators=(",", ":"))
        for row in frame.reindex(columns=list(LEDGER_COLUMNS)).itertuples(index=False)
    ]
    assert canonical_rows(frame) == expected
    assert canonical_rows(frame.head(0)) == []


def test_repeated_and_distinct_texts_needing_escapes_are_written_as_json_does():
    """Escaping takes shortcuts (none when nothing needs it, once per distinct text when texts repeat); the lines stay json.dumps's."""
    import json

    import pandas as pd

    from keel.ledger import LEDGER_COLUMNS, _canonical_cell, canonical_rows, constant_column

    rows = 300
    frame = pd.DataFrame({c: [f"{c}-{i}" for i in range(rows)] for c in LEDGER_COLUMNS})
    frame["reason_codes"] = [['["HIGH_DEBT", "NEW_JOB"]', "[]", 'back\\slash', "tab\there"][i % 4] for i in range(rows)]  # repeated
    frame["source_file"] = [f'file "{i}"\n' if i % 3 else f"plain-{i}" for i in range(rows)]  # mostly distinct
    frame["review_reason"] = [f"C:\\dir\\{i}" for i in range(rows)]  # distinct, backslashes and nothing else to escape
    frame["reviewer"] = ["x\x01y" if i == 7 else "" for i in range(rows)]  # one control character among blanks
    frame["run_ids"] = constant_column('{"scores": "r\\1"}', rows)
    expected = [
        json.dumps([_canonical_cell(v) for v in row], ensure_ascii=False, separators=(",", ":"))
        for row in frame.astype({"run_ids": "object"}).reindex(columns=list(LEDGER_COLUMNS)).itertuples(index=False)
    ]
    assert canonical_rows(frame) == expected


def test_column_wise_texts_equal_the_cell_by_cell_definition():
    """The fast per-column paths give exactly _canonical_cell's text for every dtype a ledger row carries."""
    import numpy as np
    import pandas as pd

    import pyarrow as pa

    from keel.ledger import _canonical_cell, canonical_array, canonical_texts

    rng = np.random.default_rng(7)
    floats = rng.normal(size=200) * 10.0 ** rng.integers(-12, 12, size=200)
    floats[::17] = np.nan
    columns = {
        "float64": pd.Series(floats),
        "float32": pd.Series(floats.astype("float32")),
        "int64": pd.Series(rng.integers(-10**12, 10**12, size=200)),
        "Int64": pd.array([1, None, 3] * 66 + [4, 5], dtype="Int64"),
        "object": pd.Series(["a", None, 1.5, np.nan, 7, "ü \\" + '"'] * 33 + ["x", "y"], dtype="object"),
        "string": pd.Series(["a", None, "b"] * 66 + ["c", "d"], dtype="string"),
        "bool": pd.Series([True, False] * 100),
        "timestamp": pd.Series(pd.date_range("2026-01-01", periods=200, freq="h", tz="UTC")),
        "categorical": pd.Series(pd.Categorical(['{"run": "r1"}', None, "x"] * 66 + ["x", "y"])),
    }
    for name, values in columns.items():
        column = pd.Series(values)
        assert canonical_texts(column) == [str(text) for text in column.map(_canonical_cell)], name
        assert canonical_array(column).cast(pa.string()).to_pylist() == canonical_texts(column), name


def test_floats_get_python_text_where_arrow_writes_it_and_elsewhere():
    """The ledger's float text is _canonical_cell's (repr of the value rounded to 10 decimals) for every double, whoever writes it."""
    import numpy as np
    import pyarrow as pa

    from keel.ledger import _canonical_cell, _float_array, _left_to_python

    rng = np.random.default_rng(11)
    magnitudes = 10.0 ** rng.uniform(-12, 20, size=60_000) * rng.choice([-1.0, 1.0], size=60_000)
    edges = np.array([1e-4, np.nextafter(1e-4, 0), np.nextafter(1e-4, 1), 2.0**18, np.nextafter(2.0**18, 0), 262143.1234567891,
                      0.0, -0.0, 1.0, -3.0, 0.5, 1e-5, 1e16, 0.1 + 0.2, 123456.0000000001, np.nan, np.inf, -np.inf])  # fmt: skip
    values = np.concatenate([
        np.round(rng.random(60_000), 10),  # scores: probabilities of at most 10 decimals
        rng.random(20_000),  # 17 significant digits: rounded by Python
        np.concatenate([np.round(magnitudes[k::13], k) for k in range(13)]),  # 0 to 12 decimals over 32 orders of magnitude
        rng.integers(-(2**62), 2**62, size=20_000).view(np.float64),  # any bit pattern
        rng.random(20_000).astype(np.float32).astype(np.float64),
        edges,
    ])  # fmt: skip
    texts = _float_array(values).to_pylist()
    expected = [_canonical_cell(value) for value in values.tolist()]
    mismatches = [(value, got, want) for value, got, want in zip(values.tolist(), texts, expected, strict=True) if got != want]
    assert not mismatches, mismatches[:5]
    # Scores from 1e-4 up and missing values never go through Python one at a time (what makes it fast):
    # a decision row's review and outcome columns are all missing. Exponents, integral values and long decimals do.
    fast = np.concatenate([values[:60_000][values[:60_000] >= 1e-4], np.full(1_000, np.nan)])
    assert not _left_to_python(fast, pa.array(fast).cast(pa.string()), np.isnan(fast)).any()
    odd = np.array([1e-5, 1e16, 3.0, 0.12345678901])
    assert _left_to_python(odd, pa.array(odd).cast(pa.string()), np.isnan(odd)).all()


def test_constant_columns_hash_like_the_same_text_on_every_row():
    """Run ids and versions are stored once per batch (categorical) but hash exactly as repeated text."""
    import pandas as pd

    from keel.ledger import LEDGER_COLUMNS, canonical_rows, constant_column, rows_sha256

    rows = pd.DataFrame({c: [f"{c}-{i}" for i in range(5)] for c in LEDGER_COLUMNS})
    repeated = rows.assign(run_ids='{"scores": "r-1", "decisions": "r\\2"}', contract_version=None, event_type="decision")
    stored_once = rows.assign(
        run_ids=constant_column('{"scores": "r-1", "decisions": "r\\2"}', 5),
        contract_version=constant_column(None, 5),
        event_type=constant_column("decision", 5),
    )
    assert canonical_rows(stored_once) == canonical_rows(repeated)
    assert rows_sha256(stored_once) == rows_sha256(repeated)
    one_row = stored_once.head(1).assign(**{c: constant_column("v", 1) for c in LEDGER_COLUMNS})
    assert canonical_rows(one_row) == canonical_rows(one_row.astype("object"))
