"""The command table (mdstore/cli/table.py) against the CLI and the API: every command is in the
table, names an API method that exists, and offers that method's arguments under the same names
and defaults, or says why not. A method that gains or renames an argument fails here until its
command follows."""

from __future__ import annotations

import inspect

import click
import pytest

from mdstore.cli import ApiCommand, cli
from mdstore.cli.table import COMMANDS, NOT_IN_TABLE, Command, target

EVERY_COMMAND = "as_json"  # --json is every command's, not an argument of its method


def leaves(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.update(leaves(command, f"{prefix}{name} "))
        else:
            found[prefix + name] = command
    return found


CLI = {name: command for name, command in leaves(cli).items() if name not in NOT_IN_TABLE}


def _default(command: click.Command, param: click.Parameter) -> object:
    """What the command passes when the option is not given (click 8.3 marks "no default" UNSET)."""
    value = param.get_default(click.Context(command))
    return None if value is getattr(click.core, "UNSET", object()) else value


def test_every_command_is_in_the_table_and_every_entry_is_a_command():
    assert sorted(CLI) == sorted(c.name for c in COMMANDS)
    for name, command in CLI.items():
        assert isinstance(command, ApiCommand) and command.api.name == name


@pytest.mark.parametrize("entry", COMMANDS, ids=[c.name for c in COMMANDS])
def test_options_match_the_method_signature(entry: Command):
    command = CLI[entry.name]
    signature = inspect.signature(target(entry))
    arguments = {n: p for n, p in signature.parameters.items() if n != "self"}
    takes_more = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in arguments.values())
    offered = {p.name: p for p in command.params}
    for key in (*entry.params, *entry.cli_only):
        assert key in offered, f"{entry.name}: the table names {key!r}, which the command does not have"
    for key in entry.defaults:
        assert key in offered, f"{entry.name}: the table names {key!r}, which the command does not have"
    for key in entry.left_out:
        assert key in arguments, f"{entry.name}: {key!r} left out, but {entry.method} has no such argument"
    covered = set()
    for name, param in offered.items():
        if name == EVERY_COMMAND or name in entry.cli_only:
            continue
        argument = entry.params.get(name, name)
        covered.add(argument)
        if argument not in arguments:
            assert takes_more, f"{entry.name}: {name!r} is no argument of {entry.method}{signature}"
            continue
        expected = arguments[argument].default
        if (
            expected is inspect.Parameter.empty
            or param.multiple
            or param.nargs == -1
            or name in entry.defaults
        ):
            continue
        got = _default(command, param)
        assert got == expected or (
            got is None and isinstance(param, click.Argument) and not param.required
        ), f"{entry.name}: {name!r} defaults to {got!r}, {entry.method}'s {argument!r} to {expected!r}"
    for name, argument in arguments.items():
        if argument.kind is inspect.Parameter.VAR_KEYWORD:
            continue
        assert name in covered or name in entry.left_out, (
            f"{entry.name}: {entry.method}'s argument {name!r} has no option (add one, or say why in left_out)"
        )


def test_every_command_takes_json():
    missing = [name for name, command in CLI.items() if "as_json" not in {p.name for p in command.params}]
    assert not missing, f"commands without --json: {missing}"
