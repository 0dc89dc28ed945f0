"""What the CLI says when Ctrl-C stops it: the run it stopped, where to look, and how to do it again."""

import pytest
import typer

from keel.cli.output import INTERRUPTED_EXIT, interrupted_text, one_line_errors
from keel.orchestrate import RunInterrupted, RunOutcome


def _interrupted(step: str | None) -> RunInterrupted:
    outcome = RunOutcome(run_id="r-1", success=False, interrupted=True, interrupted_step=step)
    return RunInterrupted(outcome, "daily_decisioning", "2026-01-04")


def test_a_stopped_run_is_named_with_its_step_its_page_and_how_to_run_it_again(monkeypatch):
    monkeypatch.delenv("KEEL_UI_URL", raising=False)
    interrupt = _interrupted("dbt_transform")
    interrupt.rerun = "to run it again: keel run --date 2026-01-04"
    assert interrupted_text(interrupt).splitlines() == [
        "interrupted: the run of daily_decisioning for 2026-01-04 stopped during dbt_transform and is marked failed; "
        "its steps and logs: http://127.0.0.1:3000/runs/r-1",
        "to run it again: keel run --date 2026-01-04",
    ]


def test_a_run_stopped_between_steps_and_ctrl_c_outside_a_run():
    assert str(_interrupted(None)) == "the run of daily_decisioning for 2026-01-04 stopped and is marked failed"
    assert interrupted_text(KeyboardInterrupt()) == "interrupted"


def test_a_command_stopped_by_ctrl_c_exits_as_a_shell_expects(capsys):
    @one_line_errors
    def command():
        raise _interrupted("scores")

    with pytest.raises(typer.Exit) as exit_:
        command()
    assert exit_.value.exit_code == INTERRUPTED_EXIT == 130
    assert "keel: interrupted: the run of daily_decisioning for 2026-01-04 stopped during scores" in capsys.readouterr().err
