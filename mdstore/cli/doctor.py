"""``mdstore doctor``: check the vault's backends (``mdstore.health``); exit 1 when one fails."""

from __future__ import annotations

import click

from . import State, cli, pass_state
from .options import json_option
from .output import emit_value, message, use_json

_MARK = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}


@cli.command()
@json_option
@pass_state
def doctor(state: State, as_json: bool) -> None:
    """Check the tier's backends: the team database (reachable, latency, versions, schema), the
    queue (counts, lag), the outbox (pending work) and the watcher (heartbeat). Exit code 1 when
    something is wrong; warnings alone exit 0."""
    from ..health import health
    from .queue import _config

    report = health(_config(state))
    if use_json(as_json):
        emit_value(report.to_dict(), True)
    else:
        for check in report.checks:
            message(f"{_MARK[check.status]}  {check.name}: {check.detail}")
    if not report.ok:
        raise click.exceptions.Exit(1)
