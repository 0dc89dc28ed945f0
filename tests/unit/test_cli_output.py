"""How the CLI ends when the reader of its output goes away (keel/cli/output.py)."""

import subprocess
import sys

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
