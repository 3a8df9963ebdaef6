"""Text analysis shared by every search engine and the TF-IDF model.

Both engines index text that this module has already analysed (tokens joined by spaces, split again
by the engine's whitespace tokenizer), and both analyse query words here too. One analyzer in one
place is what makes Whoosh and tantivy return the same result sets, and it lets the highlighter and
the "did you mean" code speak the same language as the index.

Pipeline: split on word characters → case-fold → fold accents (``café`` → ``cafe``) → drop stop
words and over-long tokens → Porter2 (Snowball English) stemming.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

# Small on purpose (Whoosh's English list): a big list hurts phrase and known-item queries.
STOP_WORDS = frozenset(
    "a an and are as at be by can for from have if in is it may not of on or tbd that the this to us "
    "we when will with yet you your".split()
)
MAX_TOKEN_CHARS = 40  # longer "words" are hashes, base64 or URLs squashed together: noise in the index

_WORD = re.compile(r"\w+")


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _strip_marks(run: re.Match[str]) -> str:
    return "".join(ch for ch in run.group() if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Case-fold and strip accents, keeping the text otherwise as it is."""
    text = text.casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    # Only non-ASCII characters can be combining marks: a mostly English text with a few accents
    # is checked a run of them at a time, not character by character (a cold build folds every note).
    return _NON_ASCII.sub(_strip_marks, decomposed)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Porter2 stem of an already folded word (cached: vocabularies are small, texts are not)."""
    from whoosh.lang.porter2 import stem as porter2

    return porter2(word)


def _keep(word: str) -> bool:
    return word not in STOP_WORDS and len(word) <= MAX_TOKEN_CHARS


# Every ASCII character that is not a word character (``\w``), as a space.
_ASCII_NON_WORD = str.maketrans({c: " " for c in map(chr, range(128)) if not (c.isalnum() or c == "_")})


def _word_runs(text: str) -> list[str]:
    """``_WORD.findall(text)``, three times faster on mostly ASCII text: no word runs across an
    ASCII non-word character or white space, so the text is split there first, and only the
    pieces with other characters are searched."""
    pieces = text.translate(_ASCII_NON_WORD).split()
    if text.isascii():
        return pieces
    return [word for piece in pieces for word in ((piece,) if piece.isascii() else _WORD.findall(piece))]


def words(text: str) -> list[str]:
    """Folded, unstemmed words of ``text`` without stop words (the vocabulary users type)."""
    # ``_keep`` written out: this runs for every word of every note a build analyses.
    return [w for w in _word_runs(fold(text)) if w not in STOP_WORDS and len(w) <= MAX_TOKEN_CHARS]


def tokens(text: str) -> list[str]:
    """The index terms of ``text``: folded, stop words removed, stemmed."""
    return list(map(stem, words(text)))


def analyzed(text: str) -> str:
    """``tokens(text)`` joined by spaces: the form both engines index with a whitespace tokenizer."""
    return " ".join(tokens(text))


def token_spans(text: str) -> Iterator[tuple[int, int, str, str]]:
    """``(start, end, word, token)`` for every kept word of ``text``, offsets into the original text.

    Folding can change a word's length (``ß`` → ``ss``), so each word is folded on its own and the
    offsets always point into ``text`` itself; the highlighter relies on that.
    """
    for match in _WORD.finditer(text):
        analysed = analyse_word(match.group())
        if analysed is not None:
            yield match.start(), match.end(), analysed[0], analysed[1]


@lru_cache(maxsize=200_000)
def analyse_word(raw: str) -> tuple[str, str] | None:
    """``(word, token)`` for one raw word of a text, ``None`` for a dropped one (cached: the
    highlighter analyses every word of every hit's body)."""
    word = fold(raw)
    return (word, stem(word)) if _keep(word) else None


def word_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, raw word)`` for every word of ``text``, unanalysed."""
    for match in _WORD.finditer(text):
        yield match.start(), match.end(), match.group()
