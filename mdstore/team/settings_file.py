"""Writing the ``[team]`` table of ``mdstore.toml`` without disturbing the rest of the file
(tomlkit keeps comments, order and formatting of everything it does not touch)."""

from __future__ import annotations

from pathlib import Path

from ..config import CONFIG_FILE
from ..errors import ConfigError


def write_team_settings(root: Path, url: str, space: str) -> None:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    from ..notes.fileio import atomic_write

    path = root / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        doc = tomlkit.parse(text)
    except (TOMLKitError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    table = doc.get("team")
    if table is None:
        table = tomlkit.table()
        doc["team"] = table
    elif not isinstance(table, dict):
        raise ConfigError(f"{path}: [team] must be a table")
    table["url"] = url
    table["space"] = space
    atomic_write(path, tomlkit.dumps(doc).encode("utf-8"))
