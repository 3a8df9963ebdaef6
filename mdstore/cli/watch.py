"""``mdstore watch``: run the watcher daemon (Vault.watch), or with ``--events`` print the change
events of the running one as JSON lines (Vault.subscribe)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

import click

from . import State, api_command, pass_state
from .options import json_option
from .output import done, dumps, message


@api_command("watch")
@click.option(
    "--events",
    "events",
    is_flag=True,
    help="Print change events as JSON lines (from the running daemon; else start one here).",
)
@click.option(
    "--pattern", default="**/*.md", show_default=True, help="Only events for paths matching this glob."
)
@click.option(
    "--serve/--no-serve", default=True, help="Answer other processes on .mdstore/owner.sock (the default)."
)
@json_option
@pass_state
def watch(state: State, events: bool, pattern: str, serve: bool, as_json: bool) -> None:
    """Keep every index current as files change, and serve reads to other processes, until
    Ctrl-C or SIGTERM (Vault.watch). One daemon per vault: a second one exits with code 9.
    Events are JSON lines whatever --json says; with --json the start and stop are too."""
    from ..watch.client import owner_client
    from ..watch.daemon import Watcher

    vault = state.vault()
    if events and owner_client(vault.config) is not None:
        _print_events(vault, pattern)
        return
    watcher = Watcher(vault, serve=serve)
    if events:
        watcher.hub.subscribe(_print, pattern)
    watcher.start(wait=False)
    done(
        {"watching": str(vault.root), "pid": os.getpid()},
        as_json,
        f"Watching {vault.root} (pid {os.getpid()}); Ctrl-C to stop.",
    )
    sys.stdout.flush()
    watcher.run()
    done({"stopped": str(vault.root)}, as_json, "Stopped.")


def _print(event: Any) -> None:
    sys.stdout.write(dumps(event.to_dict()) + "\n")
    sys.stdout.flush()


def _print_events(vault: Any, pattern: str) -> None:
    """Follow the daemon's stream until a signal, or until the daemon goes away."""
    import select

    from ..watch.daemon import subscribe

    r, w = os.pipe()

    def wake(*_: Any) -> None:
        try:
            os.write(w, b"x")
        except OSError:
            pass

    previous = {sig: signal.signal(sig, wake) for sig in (signal.SIGINT, signal.SIGTERM)}
    sub = subscribe(vault, _print, pattern)
    try:
        message(f"Following change events of {vault.root}; Ctrl-C to stop.")

        def follow() -> None:  # the stream ends when the daemon stops: then we stop too
            sub.wait()
            wake()

        threading.Thread(target=follow, daemon=True).start()
        select.select([r], [], [])
    finally:
        sub.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        os.close(r)
        os.close(w)
