"""The starter vault's mdstore.toml lists every setting, commented out, with its true default."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

from mdstore import config

TEMPLATE = Path(__file__).resolve().parents[1] / "vault-template" / "mdstore.toml"


def uncommented() -> str:
    """The template with every `# [section]` and `# key = value` line uncommented (examples of
    collections, which are not settings with defaults, stay out)."""
    out: list[str] = []
    for line in TEMPLATE.read_text(encoding="utf-8").splitlines():
        if line.startswith("# Collections:"):
            break
        m = re.match(r"# (\[[a-z]+\]|[a-z_]+ = .*)$", line)
        if m:
            out.append(re.sub(r"\s+#.*$", "", m.group(1)) if " = " in m.group(1) else m.group(1))
    return "\n".join(out)


def test_every_setting_is_listed_with_its_default():
    data = tomllib.loads(uncommented())
    for name, cls in config._SECTIONS.items():
        assert name in data, f"[{name}] missing from the template"
        for field in dataclasses.fields(cls):
            assert field.name in data[name], f"{name}.{field.name} missing from the template"
            default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
            value = data[name][field.name]
            assert (tuple(value) if isinstance(value, list) else value) == default, f"{name}.{field.name}"


def test_uncommented_template_loads(tmp_path):
    (tmp_path / "mdstore.toml").write_text(uncommented())
    loaded = config.load_config(tmp_path, environ={})
    assert loaded.index == config.IndexSettings() and loaded.watch == config.WatchSettings()
