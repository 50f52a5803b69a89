"""spaCy components registered with @Language.factory."""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable
from functools import lru_cache

import pymorphy3
from spacy.language import Language
from spacy.tokens import Doc

__all__ = ["CachedLemmatizer", "lemma_of", "morph"]

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
CACHE_FORMS = 200_000  # lowercase forms whose lemma the pipeline component remembers
_MORPH: pymorphy3.MorphAnalyzer | None = None


def morph() -> pymorphy3.MorphAnalyzer:
    """The one pymorphy3 analyzer of the process (its dictionaries take ~15 MB)."""
    global _MORPH
    if _MORPH is None:
        _MORPH = pymorphy3.MorphAnalyzer(lang="ru")
        # Its ~100,000 Python objects live as long as the process: out of the cyclic
        # collector's sight, a full collection no longer walks them (it took ~50 ms each
        # time, a random pause in a web request).
        gc.freeze()
    return _MORPH


# Words whose most probable parse is wrong for this domain: "данных" is "data", not a
# participle of "дать".
_OVERRIDES = {f: "данные" for f in ("данные", "данных", "данным", "данными", "данными")}


@lru_cache(maxsize=200_000)
def lemma_of(lower: str) -> str:
    """Russian normal form of a lowercase word (the most probable parse, tagger or not);
    other words come back as they are. ё is folded to е."""
    if lower in _OVERRIDES:
        return _OVERRIDES[lower]
    if _CYRILLIC.search(lower) and lower.isalpha():
        lower = str(morph().parse(lower)[0].normal_form)
    return lower.replace("ё", "е")


class CachedLemmatizer:
    """Sets ``token.lemma_`` for every token: pymorphy3 for Cyrillic words, lowercase else.

    spaCy's own pymorphy3 lemmatizer needs POS tags to choose among parses and leaves
    ambiguous words alone without a tagger; taking the first parse, cached, is both correct
    for matching (phrases go through the same function) and several times faster. Lemmas are
    set in one array operation from a cache of the lowercase form's hash to the lemma's.
    """

    def __init__(self) -> None:
        self._hashes: dict[int, int] = {}  # lowercase form -> lemma, as StringStore hashes

    def __call__(self, doc: Doc) -> Doc:
        self.lemmatize(doc, [(0, len(doc))])
        return doc

    def lemmatize(self, doc: Doc, regions: Iterable[tuple[int, int]]) -> None:
        """Lemmas of the tokens in the token ranges ``regions`` only."""
        if not len(doc):
            return
        strings, cache = doc.vocab.strings, self._hashes
        lowers = doc.to_array("LOWER").tolist()
        lemmas = doc.to_array("LEMMA")  # the other tokens' lemmas stay as they are
        for a, b in regions:
            for i in range(a, b):
                lemma = cache.get(lowers[i])
                if lemma is None:
                    lemma = strings.add(lemma_of(strings[lowers[i]]))
                    if len(cache) >= CACHE_FORMS:
                        cache.clear()
                    cache[lowers[i]] = lemma
                lemmas[i] = lemma
        # uint64 hashes, though spaCy's stubs type the arrays as floats
        doc.from_array(["LEMMA"], lemmas.reshape(-1, 1))  # type: ignore[arg-type]


@Language.factory("regwatch_lemmatizer", default_config={})
def make_lemmatizer(nlp: Language, name: str) -> CachedLemmatizer:
    return CachedLemmatizer()
