"""The shared analyzer: folding, stop words, stemming, offsets."""

from __future__ import annotations

from mdstore.search.analysis import MAX_TOKEN_CHARS, analyzed, fold, token_spans, tokens, words


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
