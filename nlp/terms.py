"""Word-level term matching for context, exclusions, the gazetteer and draft stages.

A document's words are found once by a regex and lemmatised with the same cached function
as the spaCy pipeline; a term (one or more words) is found where its words follow each other.
A term word matches a text word when their lemmas are equal — for Russian that covers every
case form — or, for words pymorphy3 does not know (Kazakh, Uzbek, Tajik, Kyrgyz, English
stems of five letters or more), when the text word starts with it ("intellekt" →
"intellektni", "қауіпсіздік" → "қауіпсіздікті"); a term word written inflected in those
languages is cut to its stem first ("міндеттері" → "міндет", "vazirligi" → "vazirli"), so any
inflection counts; English plurals in -s/-es match too.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import accumulate, compress
from typing import NamedTuple

from regwatch.nlp.components import lemma_of, morph
from regwatch.nlp.prefilter import TriggerIndex
from regwatch.nlp.stems import WHOLE, agglutinative_stem, word_stems
from regwatch.nlp.text import APOSTROPHES, fold

__all__ = ["Occurrence", "Occurrences", "TermMatcher", "words_of"]

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
MIN_PREFIX = 5


class Occurrence(NamedTuple):
    label: str
    start: int
    end: int


Word = tuple[int, int, str, str]  # start, end, lemma, folded surface
Candidate = tuple[str, tuple[str, ...]]  # label, the term's word keys
CACHE_WORDS = 200_000  # distinct words whose candidate terms are remembered


_new = tuple.__new__  # an Occurrence without its Python-level __new__

MAX_WORD = 64  # longer "words" are not language: kept, but never lemmatised or cached


def words_of(text: str) -> list[Word]:
    """(start, end, lemma, surface) of every word, offsets into ``text``."""
    folded = fold(text.translate(APOSTROPHES))
    return [
        (m.start(), m.end(), lemma_of(w) if len(w) <= MAX_WORD else w, w)
        for m in _WORD.finditer(folded)
        for w in (m.group(),)
    ]


@lru_cache(maxsize=20_000)
def _prefix_mode(lemma: str) -> bool:
    if len(lemma) < MIN_PREFIX:
        return False
    if re.search(r"[\u0400-\u04ff]", lemma):
        return not morph().word_is_known(lemma)
    return True


def _prefix_key(surface: str) -> str:
    """A term word matched by prefix: its stem, Kazakh/Kyrgyz/Uzbek/Tajik endings cut off
    (see :func:`regwatch.nlp.stems.agglutinative_stem`), if that stem is still matched by
    prefix; else the word as written."""
    stem = agglutinative_stem(surface)
    return stem if stem != surface and _prefix_mode(stem) else surface


def _first_stems(key: str, surface: str) -> tuple[str, ...]:
    """Stems one of which every word whose lemma is ``key`` (or ``key`` + "s"/"es") starts
    with, ``key`` being the lemma of ``surface``: whole words for words that are their own
    lemma (not Cyrillic, digits, apostrophes), and the stems of every form of the Russian
    lexemes (see :func:`regwatch.nlp.stems.word_stems`)."""
    stems = [key + end + WHOLE for end in ("", "s", "es")]
    lexemes = [w for w in (surface, key) if _CYRILLIC.search(w) and w.isalpha()]
    for word in lexemes:
        stems += word_stems(word)
    if lexemes and not any(key.startswith(s) for s in stems):
        stems.append(key)  # the lemma itself, so that key + "s" is covered too
    return tuple(stems)


@lru_cache(maxsize=50_000)
def _foreign(surface: str) -> bool:
    """A Cyrillic word pymorphy3 does not know: likely Kazakh, Uzbek, Tajik or Kyrgyz."""
    return bool(re.search(r"[\u0400-\u04ff]", surface)) and not morph().word_is_known(surface)


class TermMatcher:
    """Labelled terms; :meth:`find` returns every occurrence in a document's words."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._exact: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
        self._prefix: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
        self._loan: dict[str, list[tuple[str, tuple[str, ...]]]] = defaultdict(list)
        self._longest = MIN_PREFIX
        self._cache: dict[str, tuple[Candidate, ...] | None] = {"": ()}
        self._same_cache: dict[tuple[str, str], bool] = {}  # (a following word, term word)
        # a piece of spaced text -> its candidates, () when no first word's stem starts it
        self._pieces: dict[str, tuple[Candidate, ...]] = {}
        firsts: set[str] = set()  # stems one of which every possible first word starts with
        for label, term in items:
            # each term word: the lemma (exact mode) or the surface form (prefix mode)
            keys = tuple(
                _prefix_key(surface) if _prefix_mode(surface) else lemma
                for _s, _e, lemma, surface in words_of(term)
            )
            if keys:
                first = keys[0]
                self._longest = max(self._longest, len(words_of(term)[0][3]))
                (self._prefix if _prefix_mode(first) else self._exact)[first].append((label, keys))
                # a Russian loanword inflected in Kazakh/Uzbek/Tajik/Kyrgyz ("платформаларды")
                # is unknown to pymorphy3: such words may also match by the term's surface
                surface = words_of(term)[0][3]
                if len(surface) >= MIN_PREFIX and not _prefix_mode(first):
                    self._loan[surface].append((label, keys))
                    firsts.add(surface)
                firsts.update((first,) if _prefix_mode(first) else _first_stems(first, surface))
        self._firsts = TriggerIndex(firsts)

    @staticmethod
    def _same(word: Word, key: str) -> bool:
        lemma, surface = word[2], word[3]
        if lemma == key or lemma in (key + "s", key + "es"):
            return True
        if _prefix_mode(key):
            return surface.startswith(key)
        return len(key) >= MIN_PREFIX and _foreign(surface) and surface.startswith(key)

    def _candidates(self, lemma: str, surface: str) -> tuple[Candidate, ...]:
        """Terms whose first word this word may be."""
        candidates = list(self._exact.get(lemma, ()))
        for suffix in ("s", "es"):
            if lemma.endswith(suffix):
                candidates += self._exact.get(lemma[: -len(suffix)], ())
        foreign = _foreign(surface)
        for k in range(MIN_PREFIX, min(len(surface), self._longest) + 1):
            candidates += self._prefix.get(surface[:k], ())
            if foreign:
                candidates += self._loan.get(surface[:k], ())
        return tuple(candidates)

    def find(self, words: Sequence[Word]) -> list[Occurrence]:
        """Every occurrence in ``words`` (from :func:`words_of`): the reference for
        :meth:`find_spaced`, which tests hold equal to it."""
        out: list[Occurrence] = []
        for i, word in enumerate(words):
            for label, term in self._candidates(word[2], word[3]):
                tail = words[i + 1 : i + len(term)]
                if len(tail) == len(term) - 1 and all(
                    self._same(w, t) for w, t in zip(tail, term[1:], strict=True)
                ):
                    out.append(Occurrence(label, word[0], words[i + len(term) - 1][1]))
        return out

    def find_spaced(self, spaced_text: str) -> list[Occurrence]:
        """Every occurrence in a text given as :func:`regwatch.nlp.text.spaced` made it — the same
        as ``find(words_of(text))``, looked for only at the words that start with a stem of
        some term's first word.

        In ``spaced`` text every character that is neither a letter, a digit nor an apostrophe
        inside a word is a space, so words are the pieces between spaces (less a trailing
        apostrophe). Each distinct piece is looked up once: a piece no first word's stem starts
        (an Aho-Corasick scan of the piece alone tells, as a scan of the whole text would at
        its start: no stem holds a space) is remembered as no candidate without being
        lemmatised, the others with their candidate terms."""
        pieces = spaced_text.split(" ")
        cached = list(map(self._pieces.get, pieces))
        if None in cached:
            for k, c in enumerate(cached):
                if c is None:
                    cached[k] = self._look_up(pieces[k])
        where = list(compress(range(len(pieces)), cached))
        if not where:
            return []
        offsets = list(accumulate(map(len, pieces), initial=0))  # + k: the spaces before
        n = len(pieces)
        out: list[Occurrence] = []
        for k in where:
            start = offsets[k] + k
            for label, term in cached[k]:  # type: ignore[union-attr]
                last = k
                for key in term[1:]:
                    last += 1
                    while last < n and not pieces[last]:
                        last += 1
                    if last >= n or not self._same_piece(pieces[last], key):
                        break
                else:
                    word = pieces[last]
                    end = offsets[last] + last + (len(word) - 1 if word[-1] == "'" else len(word))
                    out.append(_new(Occurrence, (label, start, end)))
        return out

    def _look_up(self, piece: str) -> tuple[Candidate, ...]:
        """The candidate terms of a piece of spaced text, remembered (see :meth:`find_spaced`)."""
        found = self._cache_word(piece) if piece and self._firsts.starts(piece) else ()
        if len(piece) <= MAX_WORD:
            if len(self._pieces) >= CACHE_WORDS:
                self._pieces.clear()
            self._pieces[piece] = found
        return found

    def _same_piece(self, piece: str, key: str) -> bool:
        """``_same(_word(piece), key)``, remembered."""
        found = self._same_cache.get((piece, key))
        if found is None:
            found = self._same(self._word(piece), key)
            if len(piece) <= MAX_WORD:
                if len(self._same_cache) >= CACHE_WORDS:
                    self._same_cache.clear()
                self._same_cache[piece, key] = found
        return found

    def find_every_word(self, spaced_text: str) -> list[Occurrence]:
        """:meth:`find_spaced` looking up every word (the reference it is tested against, with
        :meth:`find`)."""
        pieces = spaced_text.split(" ")
        cached = list(map(self._cache.get, pieces))
        if None in cached:
            for k, c in enumerate(cached):
                if c is None:
                    cached[k] = self._cache_word(pieces[k])
        where = list(compress(range(len(pieces)), cached))
        if not where:
            return []
        offsets = list(accumulate(map(len, pieces), initial=0))  # + k: the spaces before
        out: list[Occurrence] = []
        for k in where:
            word_candidates = cached[k]
            assert word_candidates
            for label, term in word_candidates:
                last = k
                for key in term[1:]:
                    last += 1
                    while last < len(pieces) and not pieces[last]:
                        last += 1
                    if last >= len(pieces) or not self._same(self._word(pieces[last]), key):
                        break
                else:
                    start = offsets[k] + k
                    end = offsets[last] + last + len(pieces[last].removesuffix("'"))
                    out.append(Occurrence(label, start, end))
        return out

    def _cache_word(self, piece: str) -> tuple[Candidate, ...]:
        _start, _end, lemma, surface = self._word(piece)
        found = self._candidates(lemma, surface)
        if len(piece) <= MAX_WORD:  # a hostile page's 20,000-letter "words" are not kept
            if len(self._cache) >= CACHE_WORDS:
                self._cache.clear()
                self._cache[""] = ()
            self._cache[piece] = found
        return found

    @staticmethod
    def _word(piece: str) -> Word:
        surface = piece.removesuffix("'")
        return (0, 0, lemma_of(surface) if len(surface) <= MAX_WORD else surface, surface)


class Occurrences:
    """A field's term occurrences, sorted, for span queries in O(log n)."""

    def __init__(self, items: Iterable[Occurrence]) -> None:
        self.items = sorted(items, key=lambda o: (o.start, o.end))
        self._starts = [o.start for o in self.items]

    def labels(
        self, start: int = 0, end: int | None = None, skip: Sequence[tuple[int, int]] = ()
    ) -> set[str]:
        """Labels of occurrences inside [start, end) overlapping none of ``skip`` (sorted)."""
        lo = bisect.bisect_left(self._starts, start)
        hi = len(self.items) if end is None else bisect.bisect_left(self._starts, end)
        skip_starts = [s for s, _e in skip]
        found: set[str] = set()
        for o in self.items[lo:hi]:
            if o.label in found or (end is not None and o.end > end):
                continue
            k = bisect.bisect_left(skip_starts, o.end) - 1  # last skip span starting before o.end
            if k >= 0 and skip[k][1] > o.start:
                continue
            found.add(o.label)
        return found
