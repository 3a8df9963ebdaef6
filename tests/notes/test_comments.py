"""Obsidian %%comments%% are blanked before the body is read, keeping every offset."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mdstore.notes.comments import hide_comments


def test_inline_and_multiline_comments_are_blanked() -> None:
    assert hide_comments("a %%b%% c %%d%%") == "a       c      "
    assert hide_comments("a %%b\nc\nd%% e") == "a    \n \n    e"
    assert hide_comments("a %%never closed\nb") == "a               \n "


def test_code_is_text() -> None:
    assert hide_comments("`%%` x %%y%%") == "`%%` x      "
    assert hide_comments("``a ` %%`` %%b%%") == "``a ` %%``      "
    assert hide_comments("```\n%% in code\n```\n%%c%%") == "```\n%% in code\n```\n     "
    assert hide_comments("~~~~\n```\n%%x\n~~~~\n") == "~~~~\n```\n%%x\n~~~~\n"
    assert hide_comments("` unclosed %%x%%") == "` unclosed      "


def test_a_fence_inside_a_comment_is_comment() -> None:
    assert hide_comments("%%\n```\n%%\nafter") == "  \n   \n  \nafter"


@given(st.text(alphabet="ab%`~\n [", max_size=60))
def test_lengths_and_newlines_are_kept(text: str) -> None:
    hidden = hide_comments(text)
    assert len(hidden) == len(text)
    assert [i for i, c in enumerate(hidden) if c == "\n"] == [i for i, c in enumerate(text) if c == "\n"]
    assert all(h == t or h == " " for h, t in zip(hidden, text, strict=True))
    if "%%" not in text:
        assert hidden == text
