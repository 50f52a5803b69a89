"""Search terms: the words of a text as the full-text index stores them and queries look
them up — Russian (and other Cyrillic) words by their pymorphy3 lemma, so «безопасности» finds
«безопасность»; English by its Snowball stem, so "regulations" finds "regulating"; anything
else lowercased. The index and the query go through this one function."""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

from regwatch.nlp.components import lemma_of

__all__ = ["search_terms", "term_of"]

_WORD = re.compile(r"\w+(?:['’]\w+)*")
_LATIN = re.compile(r"[a-z]")
_ENGLISH = snowballstemmer.stemmer("english")
SHORT = 3


@lru_cache(maxsize=200_000)
def term_of(lower: str) -> str:
    """The index term of one lowercase word."""
    if _LATIN.match(lower) and lower.isascii():
        return str(_ENGLISH.stemWord(lower.replace("’", "'")))
    if len(lower) <= SHORT:  # ИИ, ЕС, РК: abbreviations, not forms of other words
        return lower.replace("ё", "е")
    return lemma_of(lower)


def search_terms(text: str) -> list[str]:
    """The index terms of ``text``, in order (phrases stay phrases)."""
    return [term_of(w.lower()) for w in _WORD.findall(text)]
