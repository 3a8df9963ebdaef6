"""``section_span``: where a heading's section starts and ends in a body."""

from __future__ import annotations

import pytest

from mdstore.notes.fmedit import append_text, section_span

BODY = (
    "Intro\n"
    "## Log\n"
    "first\n"
    "\n"
    "### Detail\n"
    "deep\n"
    "```\n"
    "## Not a heading\n"
    "```\n"
    "## Next\n"
    "last\n"
)


def part(heading: str) -> str:
    span = section_span(BODY, heading)
    assert span is not None
    return BODY[span[1] : span[2]]


def test_a_section_runs_to_the_next_heading_of_its_level_or_higher() -> None:
    assert part("Log") == "first\n\n### Detail\ndeep\n```\n## Not a heading\n```\n"
    assert part("Detail") == "deep\n```\n## Not a heading\n```\n"
    assert part("Next") == "last\n"
    start, content, _ = section_span(BODY, "Log") or (0, 0, 0)
    assert BODY[start:content] == "## Log\n"


@pytest.mark.parametrize("heading", ["Missing", "Not a heading", "# Log", "### Log"])
def test_no_span_for_a_missing_heading_a_fenced_one_or_another_level(heading: str) -> None:
    assert section_span(BODY, heading) is None


def test_a_level_narrows_the_match_and_crlf_bodies_work() -> None:
    assert part("## Log").startswith("first")
    body = BODY.replace("\n", "\r\n")
    span = section_span(body, "Next")
    assert span is not None and body[span[1] : span[2]] == "last\r\n"


def test_append_text_puts_text_inside_the_span_it_finds() -> None:
    data = append_text(BODY.encode(), "added", "Log").decode()
    span = section_span(data, "Log")
    assert span is not None and "added" in data[span[1] : span[2]]
