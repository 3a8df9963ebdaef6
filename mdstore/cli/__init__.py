"""The ``mdstore`` command. Each command is a thin wrapper over one public API method, named in the
command table (``table.py``): parse the arguments, call the method, print the result (``output.py``).

A command's module is imported when the command is first looked up (``_MODULES``), and ``--help``
lists the table's one-line help, so a command pays only for its own imports: a one-note write loads
click, DuckDB and the YAML editors, not the search, team, queue or memory commands.

Exit codes: 0 success, 1 generic error, 2 usage error, and each ``MdstoreError`` subclass's own
code (listed in ``mdstore/errors.py`` and ``docs/errors.md``).
"""

from __future__ import annotations

import importlib
import re
import traceback
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import MdstoreError

if TYPE_CHECKING:
    from ..vault import Vault
    from .table import Command


@dataclass
class State:
    """What every command gets: where the vault is, and the vault once opened."""

    vault_path: Path | None
    debug: bool
    _vault: Any = field(default=None, repr=False)

    def vault(self) -> Vault:
        if self._vault is None:
            from ..vault import open_vault

            # A command is one short process: search changes it held back are left to the next
            # reader instead of loading the search engines at exit (docs/performance.md).
            self._vault = open_vault(self.vault_path, search={"flush_at_close": False})
        return self._vault

    def note(self, ref: str) -> str:
        """The path of the note ``ref`` names, refused when it is a name that several notes share
        (in different folders, or as an alias), listing them: a command never picks one silently.
        A ref that names no note is passed on as it is (history knows deleted notes)."""
        from ..errors import NoteNotFound

        try:
            return self.vault().resolve(ref, unique=True)
        except NoteNotFound:
            return ref

    def close(self) -> None:
        if self._vault is not None:
            self._vault.close()
            self._vault = None


# Where each top-level command is written: its module is imported when the command is first looked
# up, so a command loads only its own module (and `mdstore --help` none: it lists the table's help).
_MODULES: dict[str, tuple[str, ...]] = {
    "backup": ("backup", "restore-backup"),
    "core": (
        "init", "index", "find", "sql", "show", "links", "backlinks", "neighbors", "orphans",
        "broken-links", "tags", "tasks", "check", "status", "schema", "export",
    ),
    "doctor": ("doctor",),
    "history": ("commit", "history", "diff", "restore", "snapshot", "snapshots", "show-revision", "at"),
    "mcp": ("mcp",),
    "memory": ("memory", "dream"),
    "queue": ("queue", "worker"),
    "search": ("search", "related", "similar", "reindex-search"),
    "team": ("team",),
    "watch": ("watch",),
    "write": ("new", "set", "unset", "append", "mv", "rm", "edit", "batch"),
}  # fmt: skip


class _Commands(MutableMapping[str, click.Command]):
    """A group's commands by name, each module imported on the first lookup of one of its
    commands (``where``: command -> module of this package). Listing names imports nothing."""

    def __init__(self, where: dict[str, str]) -> None:
        self._where = where
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded and name in self._where:
            importlib.import_module(f"{__name__}.{self._where[name]}")
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self._where.pop(name, None)
        del self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in self._loaded or name in self._where

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._where.keys() | self._loaded.keys()))

    def __len__(self) -> int:
        return len(self._where.keys() | self._loaded.keys())


class _TableGroup(click.Group):
    """A group whose command listing shows the command table's one-line help (``SUMMARIES``)
    without loading the commands."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from .table import SUMMARIES

        names: list[str] = []
        node: click.Context | None = ctx
        while node is not None and node.parent is not None:  # the root's name is the program's
            names.insert(0, node.info_name or "")
            node = node.parent
        prefix = "".join(f"{name} " for name in names)
        listed = [name for name in self.list_commands(ctx) if not self._hidden(name)]
        if not listed:
            return
        limit = formatter.width - 6 - max(len(name) for name in listed)
        rows = []
        for name in listed:
            summary = SUMMARIES.get(prefix + name)
            if summary is None:  # a command added from elsewhere: its own help
                command = self.get_command(ctx, name)
                rows.append((name, command.get_short_help_str(limit) if command else ""))
                continue
            # click's own shortening of a help text, applied to the table's line
            rows.append((name, click.Command(name, help=summary).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _hidden(self, name: str) -> bool:
        commands = self.commands
        loaded = commands._loaded if isinstance(commands, _Commands) else commands
        command = loaded.get(name)
        return command is not None and command.hidden


_TableGroup.group_class = _TableGroup  # subgroups (``queue``, ``team members``) list the same way


class _Group(_TableGroup):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = _Commands({name: module for module, names in _MODULES.items() for name in names})

    def invoke(self, ctx: click.Context) -> Any:
        failure: MdstoreError | None = None
        try:
            return super().invoke(ctx)
        except MdstoreError as exc:
            failure = exc
        finally:
            # Closing the vault writes what it held back (a journal, an index): an error there is
            # reported like the command's own, after the command's own if both failed.
            state = ctx.find_object(State)
            try:
                if state is not None:
                    state.close()
            except MdstoreError as exc:
                failure = failure or exc
            if failure is not None:
                if state is not None and state.debug:
                    traceback.print_exception(failure)
                click.echo(f"Error: {failure}", err=True)
                ctx.exit(failure.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--vault",
    "vault_path",
    type=click.Path(path_type=Path),
    envvar="MDSTORE_VAULT",
    help="Vault folder (default: $MDSTORE_VAULT, else the nearest parent holding mdstore.toml or .mdstore/).",
)
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.version_option(package_name="mdstore")
@click.pass_context
def cli(ctx: click.Context, vault_path: Path | None, debug: bool) -> None:
    """mdstore: SQL, search and a Python API over a folder of Markdown notes."""
    from click.core import ParameterSource

    if vault_path is not None and vault_path.exists() and not vault_path.is_dir():
        from ..errors import VaultNotFound

        where = (
            "MDSTORE_VAULT"
            if ctx.get_parameter_source("vault_path") is ParameterSource.ENVIRONMENT
            else "--vault"
        )
        raise VaultNotFound(f"{where}={vault_path} is a file, not a vault folder")
    ctx.obj = State(vault_path=vault_path, debug=debug)


pass_state = click.make_pass_decorator(State)


_OPTION_LIKE = re.compile(r"--?[A-Za-z][\w-]*(=.*)?", re.S)


class ApiCommand(click.Command):
    """A command of the command table; ``api`` is its entry (the method it calls, its options)."""

    api: Command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, self._text_last(args))

    def _text_last(self, args: list[str]) -> list[str]:
        """``args`` with every argument after ``--`` when one of them starts with ``-`` but cannot
        be an option (``- [ ] call Ada``, ``-#draft``, ``-7d``): click would take it for an
        unknown option, or for a run of short ones. The options (with their values) keep their
        places before the ``--``, the arguments their order after it."""
        dashed = (a for a in args if a[:1] == "-" and len(a) > 1)
        if "--" in args or all(_OPTION_LIKE.fullmatch(a) for a in dashed):
            return args
        takes_value = {
            name: opt.nargs
            for opt in self.params
            if isinstance(opt, click.Option) and not opt.is_flag and not opt.count
            for name in opt.opts
        }
        options: list[str] = []
        texts: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            if _OPTION_LIKE.fullmatch(arg):
                options.append(arg)
                name, has_value = arg.split("=", 1)[0], "=" in arg
                if name in takes_value and not has_value:
                    options += args[i + 1 : i + 1 + takes_value[name]]
                    i += takes_value[name]
            else:
                texts.append(arg)
            i += 1
        return [*options, "--", *texts]


def api_command(name: str, **settings: Any) -> Callable[[Callable[..., Any]], ApiCommand]:
    """Register the command ``name`` of the command table on its group (``"queue ls"`` goes on
    ``queue``), with the table's entry as ``command.api``. Its help defaults to the docstring."""
    from .options import NOTE_ARGUMENTS, complete_note
    from .table import command

    entry = command(name)
    *groups, leaf = name.split()

    def register(fn: Callable[..., Any]) -> ApiCommand:
        parent: click.Group = cli
        for group in groups:
            found = parent.commands[group]
            assert isinstance(found, click.Group), group
            parent = found
        made = parent.command(leaf, cls=ApiCommand, **settings)(fn)
        assert isinstance(made, ApiCommand)
        made.api = entry
        for param in made.params:
            if isinstance(param, click.Argument) and param.name in NOTE_ARGUMENTS:
                # what click's ``shell_complete=`` argument sets, for every note argument at once
                param._custom_shell_complete = complete_note
        return made

    return register


def main(argv: list[str] | None = None) -> None:
    """The ``mdstore`` program. With ``argv`` (a caller's list) it raises ``SystemExit`` like any
    click program; without (the installed command, ``python -m mdstore``) it ends the process."""
    if argv is not None:
        cli.main(args=argv, prog_name="mdstore")
        return
    try:
        cli.main(prog_name="mdstore")
    except SystemExit as exc:
        _end_now(exc.code)
        raise


def _end_now(code: object) -> None:
    """End the process at once when nothing is left to do: skip the interpreter's teardown of every
    loaded module, ~25 ms with DuckDB loaded (a tenth of a one-note write). The command has closed
    the vault by now; the exit handlers still run (logging's flush, temporary folders) and stdout
    and stderr are flushed first. Returns (and Python exits as usual) when another thread still
    runs, a profiler or tracer watches (it writes its report at teardown), the exit code is not a
    number, or flushing fails (a closed pipe is reported as Python always does)."""
    import atexit
    import os
    import sys
    import threading

    if not (code is None or isinstance(code, int)) or threading.active_count() > 1:
        return
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        code = 120  # what Python exits with when its own final flush fails
    os._exit(code or 0)


def load_all() -> None:
    """Import every command module (what a test or a tool that walks ``cli.commands`` wants at once)."""
    for module in _MODULES:
        importlib.import_module(f"{__name__}.{module}")
