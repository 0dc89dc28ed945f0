"""How the CLI ends when the reader of its output goes away (keel/cli/output.py)."""

import subprocess
import sys

import pytest

LONG_LISTING = """
import typer
from keel.cli.output import one_line_errors

app = typer.Typer()

@app.command()
@one_line_errors
def listing():
    for number in range(200_000):
        typer.echo(f"line {number}")

app()
"""


def test_a_reader_that_stops_early_gets_no_error_message():
    # As `keel review list | head -1`: the reader closes the pipe after one line.
    process = subprocess.Popen([sys.executable, "-c", LONG_LISTING], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = process.stdout.readline()
    process.stdout.close()
    errors = process.stderr.read()
    process.wait(timeout=60)
    assert first == b"line 0\n"
    assert errors == b"", errors.decode()
    assert process.returncode == 1


def _failing_command(error: Exception):
    import typer
    from typer.testing import CliRunner

    from keel.cli.output import one_line_errors

    app = typer.Typer()

    @app.command()
    @one_line_errors
    def refuse():
        raise error

    return CliRunner().invoke(app, [])


def test_a_refusal_keeps_its_detail_lines_up_to_the_limit():
    from keel.cli.output import MAX_ERROR_LINES
    from keel.review.spreadsheet import ReviewCsvError

    sheet = _failing_command(ReviewCsvError("sheet.csv: 2 row(s) cannot be imported:\n  row 3 (A000495): reviewer is empty\n  row 4 (A000560): reason is empty"))
    assert sheet.exit_code == 1
    assert sheet.output.splitlines() == [
        "keel: sheet.csv: 2 row(s) cannot be imported:", "  row 3 (A000495): reviewer is empty", "  row 4 (A000560): reason is empty",
    ]
    many = _failing_command(ValueError("\n".join(f"line {n}" for n in range(MAX_ERROR_LINES + 7))))
    assert len(many.output.splitlines()) == MAX_ERROR_LINES + 1 and many.output.splitlines()[-1] == "  … and 7 more lines"


@pytest.mark.parametrize(
    "refusal",
    [
        FileExistsError("/tmp/bundle is not empty: choose a new folder for the bundle"),
        LookupError("the ledger has no decisions between 2027-01-01 and 2027-01-02"),
        FileNotFoundError("no warehouse at var/warehouse.duckdb"),
        ValueError("--to 2026-01-01 is before --from 2026-01-05"),
    ],
)
def test_a_refusal_is_its_message_alone(refusal):
    result = _failing_command(refusal)
    assert result.exit_code == 1 and result.output == f"keel: {refusal}\n"


@pytest.mark.parametrize("bug", [RuntimeError("first\nsecond"), KeyError("first"), IndexError("first")])
def test_an_unexpected_error_is_one_line_naming_its_type(bug, monkeypatch):
    monkeypatch.delenv("KEEL_DEBUG", raising=False)
    crash = _failing_command(bug)
    assert crash.exit_code == 1
    assert crash.output.splitlines() == [f"keel: {type(bug).__name__}: {str(bug).splitlines()[0]} (rerun with KEEL_DEBUG=1 for the trace)"]


def test_keel_debug_lets_the_trace_through(monkeypatch):
    monkeypatch.setenv("KEEL_DEBUG", "1")
    crash = _failing_command(RuntimeError("boom"))
    assert crash.exit_code == 1 and isinstance(crash.exception, RuntimeError) and str(crash.exception) == "boom"
