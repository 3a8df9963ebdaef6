"""Note templates: files in the vault's ``templates/`` folder with ``{{placeholders}}``.

``{{title}}`` (the new note's name), ``{{date}}`` (YYYY-MM-DD), ``{{time}}`` (HH:mm), the Obsidian forms
``{{date:FORMAT}}``/``{{time:FORMAT}}`` with the common moment.js tokens, and any custom variable given
to ``create(..., variables={...})``. A placeholder nobody defines is left as written, so a template
meant for another plugin (Templater's ``<% %>``, a ``{{query}}``) is not damaged.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

TEMPLATE_FOLDER = "templates"
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.-]*)\s*(?::([^}]*))?\}\}")
# moment.js tokens Obsidian users write, longest first, mapped to strftime.
_MOMENT = [
    ("YYYY", "%Y"), ("YY", "%y"), ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("DD", "%d"),
    ("dddd", "%A"), ("ddd", "%a"), ("HH", "%H"), ("hh", "%I"), ("mm", "%M"), ("ss", "%S"), ("A", "%p"),
]  # fmt: skip
_MOMENT_TOKEN = re.compile("|".join(re.escape(token) for token, _ in _MOMENT))


def render(
    template: str, title: str, variables: Mapping[str, Any] | None = None, now: dt.datetime | None = None
) -> str:
    """``template`` with its placeholders filled (see the module docstring)."""
    now = now or dt.datetime.now()
    values = {"title": title, "date": now.strftime("%Y-%m-%d"), "time": now.strftime("%H:%M")}
    values.update({str(k): _text(v) for k, v in (variables or {}).items()})

    def fill(match: re.Match[str]) -> str:
        name, fmt = match.group(1), match.group(2)
        if fmt is not None and name in ("date", "time") and name not in (variables or {}):
            return now.strftime(_moment(fmt.strip()))
        return values.get(name, match.group(0))

    return _PLACEHOLDER.sub(fill, template)


def _moment(fmt: str) -> str:
    table = dict(_MOMENT)
    return _MOMENT_TOKEN.sub(lambda m: table[m.group(0)], fmt.replace("%", "%%"))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
