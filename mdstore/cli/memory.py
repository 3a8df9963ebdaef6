"""Agent memory commands: ``mdstore memory ...`` and ``mdstore dream`` (docs/memory.md). Each is a
thin wrapper over the ``vault.memory`` method of the same words."""

from __future__ import annotations

import json
from typing import Any

import click

from . import State, api_command, cli, pass_state
from .options import json_option
from .output import done, emit_rows, emit_value


@cli.group()
def memory() -> None:
    """Agent memory kept as notes: preferences, insights, session logs."""


def _value(text: str) -> Any:
    """A preference value from the command line: JSON when it parses (numbers, true, lists), else text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@api_command("memory set-preference")
@click.argument("user")
@click.argument("key")
@click.argument("value")
@click.option("--category", help="A category to list the preference under.")
@json_option
@pass_state
def set_preference(
    state: State, user: str, key: str, value: str, category: str | None, as_json: bool
) -> None:
    """Set USER's preference KEY to VALUE (JSON when it parses, else text)."""
    state.vault().memory.set_preference(user, key, _value(value), category=category)
    done({"user": user, "key": key, "value": _value(value)}, as_json, f"{user}: {key} set.")


@api_command("memory get-preference")
@click.argument("user")
@click.argument("key")
@json_option
@pass_state
def get_preference(state: State, user: str, key: str, as_json: bool) -> None:
    """Print USER's preference KEY (nothing when unset)."""
    emit_value(state.vault().memory.get_preference(user, key), as_json)


@api_command("memory delete-preference")
@click.argument("user")
@click.argument("key")
@json_option
@pass_state
def delete_preference(state: State, user: str, key: str, as_json: bool) -> None:
    """Remove USER's preference KEY."""
    deleted = state.vault().memory.delete_preference(user, key)
    text = f"{user}: {key} removed." if deleted else f"{user} has no preference {key!r}."
    done({"user": user, "key": key, "deleted": deleted}, as_json, text)


@api_command("memory list-preferences")
@click.argument("user")
@click.option("--category", help="Only preferences of this category.")
@json_option
@pass_state
def list_preferences(state: State, user: str, category: str | None, as_json: bool) -> None:
    """USER's preferences."""
    emit_value(state.vault().memory.list_preferences(user, category), as_json)


@api_command("memory store-insight")
@click.argument("content")
@click.option("--user", required=True)
@click.option("--source", required=True, help="agent, user, summarization or system.")
@click.option("--category", required=True, help="decision, learning, preference, fact, pattern or general.")
@click.option("--relevance", type=float, default=1.0, show_default=True)
@click.option("--id", "insight_id", help="The insight's id (default: from its user and content).")
@json_option
@pass_state
def store_insight(
    state: State,
    content: str,
    user: str,
    source: str,
    category: str,
    relevance: float,
    insight_id: str | None,
    as_json: bool,
) -> None:
    """Store an insight (the same content for the same user gives the stored one)."""
    insight = state.vault().memory.store_insight(
        content, user=user, source=source, category=category, relevance=relevance, id=insight_id
    )
    emit_value(insight.to_dict(), as_json)


@api_command("memory get-insight")
@click.argument("insight_id")
@json_option
@pass_state
def get_insight(state: State, insight_id: str, as_json: bool) -> None:
    """Print one insight."""
    emit_value(state.vault().memory.get_insight(insight_id).to_dict(), as_json)


@api_command("memory delete-insight")
@click.argument("insight_id")
@json_option
@pass_state
def delete_insight(state: State, insight_id: str, as_json: bool) -> None:
    """Move an insight's note to the vault's trash."""
    state.vault().memory.delete_insight(insight_id)
    done({"deleted": insight_id}, as_json, f"Insight {insight_id} moved to the trash.")


@api_command("memory search-insights")
@click.argument("query")
@click.option("--limit", type=int, default=10, show_default=True)
@click.option("--user")
@click.option("--category")
@click.option("--source")
@click.option("--min-relevance", type=float)
@click.option("--created-after", help="YYYY-MM-DD or an ISO datetime.")
@click.option("--created-before", help="YYYY-MM-DD or an ISO datetime.")
@json_option
@pass_state
def search_insights(state: State, query: str, limit: int, as_json: bool, **filters: Any) -> None:
    """Insights matching QUERY, best first."""
    from ..memory import InsightFilter

    found = state.vault().memory.search_insights(query, limit=limit, filter=InsightFilter(**filters))
    emit_rows([i.to_dict() for i in found], as_json, columns=["id", "score", "category", "user", "content"])


@api_command("memory search-sessions")
@click.argument("query")
@click.option("--limit", type=int, default=10, show_default=True)
@click.option("--session", help="Only this session's entries.")
@click.option("--role", help="Only entries of this role (speaker).")
@click.option("--after", help="Only entries from this time on: YYYY-MM-DD or an ISO datetime.")
@click.option("--before", help="Only entries up to this time: YYYY-MM-DD or an ISO datetime.")
@json_option
@pass_state
def search_sessions(state: State, query: str, limit: int, as_json: bool, **filters: Any) -> None:
    """Single session entries matching QUERY, best first, across every session."""
    found = state.vault().memory.search_sessions(query, limit=limit, **filters)
    emit_rows(
        [h.to_dict() for h in found], as_json, columns=["session", "position", "score", "role", "content"]
    )


@api_command("memory append")
@click.argument("session")
@click.argument("text")
@click.option("--role", default="user", show_default=True)
@json_option
@pass_state
def append(state: State, session: str, text: str, role: str, as_json: bool) -> None:
    """Append TEXT to the log of SESSION."""
    entry = state.vault().memory.log(session).append(text, role=role)
    if as_json:
        emit_value(entry.to_dict(), True)


@api_command("memory range", context_settings={"ignore_unknown_options": True})
@click.argument("session")
@click.argument("start", type=int, default=0)
@click.argument("end", type=int, required=False)
@json_option
@pass_state
def range_(state: State, session: str, start: int, end: int | None, as_json: bool) -> None:
    """Entries START to END (exclusive; negative counts from the end) of SESSION's log."""
    entries = state.vault().memory.log(session).range(start, end)
    emit_rows([e.to_dict() for e in entries], as_json, columns=["time", "role", "content"])


@api_command("memory length")
@click.argument("session")
@json_option
@pass_state
def length(state: State, session: str, as_json: bool) -> None:
    """The number of entries in SESSION's log."""
    count = state.vault().memory.log(session).length()
    emit_value({"session": session, "length": count} if as_json else count, as_json)


@api_command("memory flush")
@json_option
@pass_state
def flush(state: State, as_json: bool) -> None:
    """Write every waiting session entry and insight to its note now."""
    count = state.vault().memory.flush()
    done({"written": count}, as_json, f"{count} entries and insights written.")


@api_command("memory schedule-dream")
@json_option
@pass_state
def schedule_dream(state: State, as_json: bool) -> None:
    """Enqueue the scheduled Dream job (`mdstore worker` runs it)."""
    job = state.vault().memory.schedule_dream()
    done(job.to_dict(), as_json, f"Dream job {job.id} enqueued.")


def _hours(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """The API's rule for Dream's window, as a usage error."""
    from ..errors import ValidationError
    from ..memory.memory import dream_hours

    try:
        return None if value is None else dream_hours(value, "--window-hours")
    except ValidationError as exc:
        raise click.BadParameter(str(exc).removeprefix("--window-hours "), ctx, param) from exc


@api_command("dream")
@click.option(
    "--window-hours",
    type=float,
    callback=_hours,
    help="Sessions of this many past hours, more than 0 (default: [memory] dream_window_hours).",
)
@click.option("--dry-run", is_flag=True, help="Only report what the window holds.")
@json_option
@pass_state
def dream(state: State, window_hours: float | None, dry_run: bool, as_json: bool) -> None:
    """Consolidate memory: merge near-duplicate insights, summarise and archive the window's sessions."""
    emit_value(state.vault().memory.dream(window_hours=window_hours, dry_run=dry_run).to_dict(), as_json)
