"""mdstore.toml as the user writes it: a mistake is one ConfigError naming the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

import mdstore
from tests.conftest import cli_run


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # [vault] commented out: the key is a known setting, so say where it belongs.
        ('# [vault]\nlink_style = "dendron"\n', r"top-level key 'link_style': it is a setting of \[vault\]"),
        ("busy_timeout = 3\n", r"top-level key 'busy_timeout': it is a setting of \[index\]"),
        ("bogus = 1\n", r"unknown top-level key 'bogus': settings go in a section \(\[vault\], \[index\]"),
        ("[valt]\nx = 1\n", r"unknown section \[valt\]"),
    ],
)
def test_a_key_outside_its_section_names_the_section(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "mdstore.toml").write_text(text)
    with pytest.raises(mdstore.ConfigError, match=message):
        mdstore.open(tmp_path)
    result = cli_run("status", vault=tmp_path, code=10)
    assert "mdstore.toml" in result.stderr and "Traceback" not in result.output + result.stderr
