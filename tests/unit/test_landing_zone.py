import datetime as dt

import pandas as pd
import pytest

from keel.landing_zone import AmbiguousLandingFile, find_landing_file, frame_to_bytes, landing_file_name, parse_date, write_atomically


@pytest.mark.parametrize("text", ["2026-02-30", "2026-1-01", "yesterday", "", "2026-01-01; drop table"])
def test_parse_date_rejects_what_is_not_a_date(text):
    with pytest.raises(ValueError, match="date"):
        parse_date(text)


def test_landing_names_are_validated():
    assert landing_file_name("applications", dt.date(2026, 1, 2), "jsonl") == "applications_2026-01-02.jsonl"
    with pytest.raises(ValueError, match="unknown source"):
        landing_file_name("../etc", dt.date(2026, 1, 2))


def test_find_landing_file_refuses_two_files_for_one_day(tmp_path):
    day = dt.date(2026, 1, 2)
    assert find_landing_file(tmp_path, "applications", day) is None
    write_atomically(tmp_path / "applications_2026-01-02.csv", b"a\n1\n")
    assert find_landing_file(tmp_path, "applications", day).name == "applications_2026-01-02.csv"
    write_atomically(tmp_path / "applications_2026-01-02.jsonl", b'{"a": 1}\n')
    with pytest.raises(AmbiguousLandingFile, match="keep one"):
        find_landing_file(tmp_path, "applications", day)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_frames_serialize_to_the_same_bytes_every_time(fmt):
    frame = pd.DataFrame({"application_id": ["A1", "A2"], "income": [1.5, None]})
    assert frame_to_bytes(frame, fmt) == frame_to_bytes(frame.copy(), fmt)
