"""Vault core commands: init, index, find, sql, show, links, backlinks, tags, tasks, check, status."""

from __future__ import annotations

from . import cli, pass_state  # noqa: F401
