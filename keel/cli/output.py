"""How the CLI speaks: one JSON object with --json, readable lines otherwise, short errors."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import typer

# An expected error may list what is wrong line by line (each bad row of a
# review sheet); past this many lines the rest is counted, not printed.
MAX_ERROR_LINES = 50


def emit_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, sort_keys=True, default=str))


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"keel: {message}", err=True)
    raise typer.Exit(code)


def one_line_errors(func: Callable) -> Callable:
    """Turn failures into `keel: <reason>` and a non-zero exit, never a stack trace.

    keel's own refusals are written for the person at the terminal and keep
    their detail lines (up to MAX_ERROR_LINES); anything unexpected is one line.
    """

    @wraps(func)
    def wrapper(*args, **kwargs):
        from keel.runs import KeelError

        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except BrokenPipeError:
            stop_writing_to_closed_pipe()
        except (KeelError, ValueError, FileNotFoundError, PermissionError) as error:
            fail(expected_error_text(error))
        except Exception as error:  # anything unexpected: still one line, with its type
            if "--debug" in sys.argv:
                raise
            fail(f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''} (rerun with --debug for the trace)")

    return wrapper


def expected_error_text(error: Exception) -> str:
    """The error's message with its detail lines, the lines past MAX_ERROR_LINES counted."""
    lines = str(error).splitlines() or [type(error).__name__]
    if len(lines) > MAX_ERROR_LINES:
        lines = [*lines[:MAX_ERROR_LINES], f"  … and {len(lines) - MAX_ERROR_LINES} more lines"]
    return "\n".join(lines)


def stop_writing_to_closed_pipe() -> None:
    """The reader of our output went away (`keel review list | head`): stop quietly, as other tools do.

    What is left in stdout's buffer would raise again when Python flushes it
    at exit, so stdout is pointed at /dev/null first; the exit code is 1,
    Python's own for a broken pipe.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise typer.Exit(1)
