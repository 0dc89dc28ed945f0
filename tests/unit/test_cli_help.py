"""`keel ... --help` is the manual people read first: every command, argument and option says what it is."""

import typer.main

from keel.cli.main import app


def _commands(command, path=()):
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in subcommands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path), command


def test_every_command_argument_and_option_has_help():
    undocumented = [
        f"keel {path}: {param.name}"
        for path, command in _commands(typer.main.get_command(app))
        for param in command.params
        if param.name != "help" and not (getattr(param, "help", None) or "").strip()
    ]
    commands = dict(_commands(typer.main.get_command(app)))
    assert {"run", "model promote", "audit verify-bundle", "review decide"} <= set(commands), "the walk must reach the sub-commands"
    assert not [path for path, command in commands.items() if not (command.help or "").strip()]
    assert undocumented == []
