"""`keel replay` takes its day as an argument or as --date, the form `keel run` and `keel land` use."""

import pytest
from typer.testing import CliRunner

from keel.cli.main import app, one_day_given


def test_the_day_comes_from_the_argument_or_the_option():
    assert one_day_given("2026-01-05", None) == "2026-01-05"
    assert one_day_given(None, "2026-01-05") == "2026-01-05"
    assert one_day_given("2026-01-05", "2026-01-05") == "2026-01-05"


@pytest.mark.parametrize(
    ("argument", "option", "words"),
    [(None, None, "which day?"), ("2026-01-05", "2026-01-06", "two days given: 2026-01-05 and --date 2026-01-06")],
)
def test_no_day_or_two_different_days_are_refused(argument, option, words):
    with pytest.raises(ValueError, match=words):
        one_day_given(argument, option)


def test_keel_replay_without_a_day_says_how_to_give_one(tmp_path, monkeypatch):
    monkeypatch.setenv("KEEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    result = CliRunner().invoke(app, ["replay"])
    assert result.exit_code == 1 and "which day? give it as YYYY-MM-DD or --date YYYY-MM-DD" in result.output
    bad = CliRunner().invoke(app, ["replay", "--date", "2026-13-01"])
    assert bad.exit_code == 1 and "not a real calendar date" in bad.output
