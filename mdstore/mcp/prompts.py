"""Prompts: ready-made requests that bring the vault's recent state into a conversation."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from .gate import Gate
from .paging import MAX_DAYS, MAX_TEXT

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

_LIST = 100  # notes listed in a prompt at most


def add_prompts(server: MCPServer[Any], gate: Gate) -> None:
    def weekly_review(days: str = "7") -> str:
        """Summarise what changed in the vault recently (default: the last 7 days; at most a
        century)."""
        span = min(int(days), MAX_DAYS) if days.strip().isdigit() and int(days) > 0 else 7
        since = dt.date.today() - dt.timedelta(days=span)
        with gate.use(index=True) as vault:
            res = vault.find(modified_after=since, sort="-modified", limit=_LIST + 1)
        lines = [f"- {r['path']} ({r['title']}), modified {r['modified']:%Y-%m-%d %H:%M}" for r in res][
            :_LIST
        ]
        if len(res) > _LIST:
            lines.append(f"- ... and more (use recent_changes with days={span})")
        listing = "\n".join(lines) or "(no note changed)"
        return (
            f"Summarise what changed in my notes in the last {span} days. These notes changed, newest "
            f"first:\n{listing}\n\nRead the ones that matter with read_note, group the changes by "
            "theme, and end with open questions and open tasks."
        )

    def continue_session(session: str = "") -> str:
        """Pick up where the last session log left off (or a named session)."""
        with gate.use(index=True) as vault:
            folder = f"{vault.memory.folder}/sessions"
            where: dict[str, Any] = {"type": "session"}
            if session:
                where["session"] = session
            res = vault.find(where=where, folder=folder, sort="-modified", limit=1)
            if not res:
                return "There is no earlier session log in this vault: ask me what we are working on."
            note = vault.get(res[0]["path"])
        text = note.body[-MAX_TEXT:]
        cut = "(its last part) " if len(note.body) > MAX_TEXT else ""
        return (
            f"Continue from our last session. This is its log {cut}from {note.path}:\n\n{text}\n\n"
            "Summarise where we stopped and what was left to do, then continue. Use recall for "
            "earlier insights and log to record this session."
        )

    server.prompt(name="weekly_review", title="What changed this week")(weekly_review)
    server.prompt(name="continue_session", title="Continue from the last session")(continue_session)
