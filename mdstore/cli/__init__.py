"""The ``mdstore`` command. Each command is a thin wrapper over the Vault method of the same name:
parse the arguments, call the method, print the result (see ``output.py``).

Exit codes: 0 success, 1 generic error, 2 usage error, and each ``MdstoreError`` subclass's own
code (listed in ``mdstore/errors.py`` and ``docs/errors.md``).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import MdstoreError

if TYPE_CHECKING:
    from ..vault import Vault


@dataclass
class State:
    """What every command gets: where the vault is, and the vault once opened."""

    vault_path: Path | None
    debug: bool
    _vault: Any = field(default=None, repr=False)

    def vault(self) -> Vault:
        if self._vault is None:
            from ..vault import open_vault

            self._vault = open_vault(self.vault_path)
        return self._vault

    def close(self) -> None:
        if self._vault is not None:
            self._vault.close()
            self._vault = None


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MdstoreError as exc:
            state = ctx.find_object(State)
            if state is not None and state.debug:
                traceback.print_exc()
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        finally:
            state = ctx.find_object(State)
            if state is not None:
                state.close()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--vault",
    "vault_path",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="MDSTORE_VAULT",
    help="Vault folder (default: $MDSTORE_VAULT, else the nearest parent holding mdstore.toml or .mdstore/).",
)
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.version_option(package_name="mdstore")
@click.pass_context
def cli(ctx: click.Context, vault_path: Path | None, debug: bool) -> None:
    """mdstore: SQL, search and a Python API over a folder of Markdown notes."""
    ctx.obj = State(vault_path=vault_path, debug=debug)


pass_state = click.make_pass_decorator(State)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="mdstore")


# Command modules register themselves on `cli`; they import only click at import time and load the
# engines when a command runs, so `mdstore --help` stays fast.
from . import backup, core, doctor, history, mcp, memory, queue, search, team, watch, write  # noqa: E402, F401
