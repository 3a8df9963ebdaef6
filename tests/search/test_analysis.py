"""The shared analyzer: folding, stop words, stemming, offsets."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from mdstore.search.analysis import MAX_TOKEN_CHARS, STOP_WORDS, analyzed, fold, token_spans, tokens, words


def test_fold_case_and_accents() -> None:
    assert fold("Café Zürich ÉTÉ") == "cafe zurich ete"
    assert fold("Straße") == "strasse"
    assert fold("plain") == "plain"


def test_tokens_stem_and_drop_stop_words() -> None:
    assert tokens("The running vaults of Notes") == ["run", "vault", "note"]
    assert words("The running vaults") == ["running", "vaults"]
    assert analyzed("Lookups, lookup; LOOKUP!") == "lookup lookup lookup"


def test_unicode_and_long_tokens() -> None:
    assert tokens("中文 日本語") == ["中文", "日本語"]  # no segmentation: a run of CJK is one token
    assert tokens("x" * (MAX_TOKEN_CHARS + 1) + " kept") == ["kept"]


def test_token_spans_point_into_the_original_text() -> None:
    text = "Größe and Café"
    spans = list(token_spans(text))
    assert [(text[s:e], word, token) for s, e, word, token in spans] == [
        ("Größe", "grosse", "gross"),
        ("Café", "cafe", "cafe"),
    ]


_ANY = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(_ANY | st.text("aé\u0301ßﬁ Ⅻ ǅ\u0308x-", max_size=30))
def test_fold_strips_every_combining_mark_like_the_per_character_definition(text: str) -> None:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    assert fold(text) == "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# ASCII word and non-word characters, Unicode white space, letters that fold to two, combining
# marks, a zero-width space, other scripts, digits of another script, an emoji.
_SAMPLES = st.text(
    alphabet=st.sampled_from([*"aZ9_ -.,'#[]\t\n", *"\u00a0\u2003\u200b\u2019\u0301éßǅﬁ日本٣😀"]),
    max_size=60,
)


@settings(max_examples=500, deadline=None)
@given(text=_SAMPLES)
def test_words_are_the_word_runs_of_the_folded_text(text: str) -> None:
    # The definition, spelled out: runs of word characters of the folded text, minus stop words
    # and over-long tokens (the analyser splits faster than this, and must split the same).
    expected = [
        w for w in re.findall(r"\w+", fold(text)) if w not in STOP_WORDS and len(w) <= MAX_TOKEN_CHARS
    ]
    assert words(text) == expected
