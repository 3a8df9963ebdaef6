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


def test_an_unset_variable_in_the_team_url_waits_until_the_url_is_used(tmp_path: Path) -> None:
    from mdstore.config import load_config
    from mdstore.tiers import plan

    (tmp_path / "mdstore.toml").write_text('[team]\nurl = "${TEAM_DB}"\nspace = "docs"\n')
    config = load_config(tmp_path, environ={})
    assert config.team.url == "${TEAM_DB}" and plan(config).queue == "spool"  # local tier: not needed
    with pytest.raises(mdstore.ConfigError, match=r"team.url refers to \$\{TEAM_DB\}, which is not set"):
        config.team.database_url()
    url = "postgresql:///x"
    assert load_config(tmp_path, environ={"TEAM_DB": url}).team.database_url() == url
    # Any other setting still refuses an unset variable when the vault opens.
    (tmp_path / "mdstore.toml").write_text('[git]\nauthor_name = "${WHO}"\n')
    with pytest.raises(mdstore.ConfigError, match=r"git.author_name refers to \$\{WHO\}"):
        load_config(tmp_path, environ={})
