"""Writing settings to ``mdstore.toml`` without disturbing the rest of the file (tomlkit keeps
comments, order and formatting of everything it does not touch); the file is replaced atomically."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import CONFIG_FILE
from ..errors import ConfigError


def write_team_settings(root: Path, url: str, space: str) -> None:
    write_settings(root, {"team": {"url": url, "space": space}})


def write_settings(root: Path, sections: Mapping[str, Mapping[str, Any]]) -> None:
    """Set each ``section.key`` of ``sections`` in the vault's mdstore.toml (other keys, comments
    and tables are kept as they are)."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    from ..notes.fileio import atomic_write

    path = root / CONFIG_FILE
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        doc = tomlkit.parse(text)
    except (TOMLKitError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    for name, values in sections.items():
        table = doc.get(name)
        if table is None:
            table = tomlkit.table()
            doc[name] = table
        elif not isinstance(table, dict):
            raise ConfigError(f"{path}: [{name}] must be a table")
        for key, value in values.items():
            table[key] = value
    atomic_write(path, tomlkit.dumps(doc).encode("utf-8"))
