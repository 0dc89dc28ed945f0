"""How the CLI speaks: one JSON object with --json, readable lines otherwise, short errors."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

import typer

# An expected error may list what is wrong line by line (each bad row of a
# review sheet); past this many lines the rest is counted, not printed.
MAX_ERROR_LINES = 50
# Set to 1 to see the Python trace of an unexpected error instead of its one line.
DEBUG_ENV = "KEEL_DEBUG"


JSON_OPTION = typer.Option(False, "--json", help="Print one JSON object instead of text.")


def keel_home():
    """The KEEL_HOME a command works on (created if new), exported for the runs and tools it starts."""
    from keel.home import KeelHome

    home = KeelHome.from_env().ensure()
    home.export_env()
    return home


@contextlib.contextmanager
def _terminal_progress(first: str, shown: bool, counted: bool) -> Iterator[tuple[Any, Any] | None]:
    """(rich Progress, its task) drawn on stderr at a terminal and gone when done; None when not shown.

    `counted`: a bar and "done/planned"; otherwise a spinner.
    """
    if not shown or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    description, elapsed = TextColumn("{task.description}"), TimeElapsedColumn()
    columns = (description, BarColumn(), MofNCompleteColumn(), elapsed) if counted else (SpinnerColumn(), description, elapsed)
    # While a run goes, stdout is its logs' and Dagster swaps sys.stderr for a step's capture:
    # the bar is drawn on a copy of the terminal's stderr taken now, and nothing else is redirected.
    with os.fdopen(os.dup(sys.stderr.fileno()), "w") as terminal, Progress(
        *columns, console=Console(file=terminal), transient=True, redirect_stdout=False, redirect_stderr=False
    ) as progress:
        yield progress, progress.add_task(first, total=None)


@contextlib.contextmanager
def run_progress(label: str, shown: bool = True) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar on stderr for a Dagster run (`label`, the step it is on, steps done of planned).

    Shown at a terminal only and gone when the run ends, so stdout carries
    only the result (with --json, one JSON object); yields the callback for
    `keel.orchestrate.execute`'s `on_step`, or None when nothing is shown.
    """
    with _terminal_progress(f"{label}: starting", shown, counted=True) as drawn:
        if drawn is None:
            yield None
            return
        progress, task = drawn

        def on_step(step: str, started: int, planned: int) -> None:
            progress.update(task, description=f"{label}: {step}", completed=started - 1, total=planned)

        yield on_step


@contextlib.contextmanager
def phase_progress(label: str, shown: bool = True) -> Iterator[Callable[[str], None]]:
    """What a long command is doing now (`label`: the phase), on stderr at a terminal; a no-op callback otherwise."""
    with _terminal_progress(f"{label}: starting", shown, counted=False) as drawn:
        if drawn is None:
            yield lambda _phase: None
            return
        progress, task = drawn
        yield lambda phase: progress.update(task, description=f"{label}: {phase}")


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
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except BrokenPipeError:
            stop_writing_to_closed_pipe()
        except KeyboardInterrupt as interrupt:
            fail(interrupted_text(interrupt), code=INTERRUPTED_EXIT)
        except Exception as error:
            if is_refusal(error):
                fail(expected_error_text(error))
            # Anything unexpected: still one line, with its type; the trace on request.
            if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
                raise
            fail(f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''} (rerun with {DEBUG_ENV}=1 for the trace)")

    return wrapper


# A shell's code for a command ended by Ctrl-C (128 + SIGINT).
INTERRUPTED_EXIT = 130


def interrupted_text(interrupt: KeyboardInterrupt) -> str:
    """What Ctrl-C leaves to say: the run it stopped (keel.orchestrate.RunInterrupted), where to look, what did not run."""
    # Not imported for the check: keel.orchestrate brings Dagster, and raised a RunInterrupted only if it was imported.
    orchestrate = sys.modules.get("keel.orchestrate")
    if orchestrate is None or not isinstance(interrupt, orchestrate.RunInterrupted):
        return "interrupted"
    from keel.ui_links import run_link

    lines = [f"interrupted: {interrupt}; its steps and logs: {run_link(interrupt.outcome.run_id)}"]
    if interrupt.rerun:
        lines.append(interrupt.rerun)
    return "\n".join(lines)


# What keel raises to refuse bad input or a missing thing (a date, a folder that
# is not empty, a version not in the registry). KeyError and IndexError are
# LookupErrors too, but from keel's code they mean a bug, not a refusal.
REFUSALS = (ValueError, LookupError, FileNotFoundError, FileExistsError, PermissionError)
BUGS = (KeyError, IndexError)


def is_refusal(error: Exception) -> bool:
    """Whether `error` is keel refusing (printed as it is) rather than failing (printed with its type)."""
    from keel.errors import KeelError

    return isinstance(error, KeelError) or (isinstance(error, REFUSALS) and not isinstance(error, BUGS))


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
