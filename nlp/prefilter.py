"""The prefilter: one Aho-Corasick scan finds every rule's stems at word starts, and only text
units that satisfy some rule's requirement go through spaCy. A full pass (``prefilter=False``)
gives the same output — the prefilter only skips units that cannot match — and tests check
that on the corpora.
"""

from __future__ import annotations

import bisect
import sys
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from collections.abc import Set as AbstractSet

import ahocorasick

from nlp.components import lemma_of
from nlp.stems import WHOLE, Guards, Requirement

__all__ = ["Hits", "TermSet", "TriggerIndex"]

TOKEN_SPAN = 64  # a requirement's stems must lie within this many characters per token
GUARDED_WORD = 64  # longer "words" are not lemmatised for a guard (they are kept)

# Where each stem was found at a word start of one folded text: stem -> sorted positions.
# A stem found as a whole word is also listed under ``stem + WHOLE``.
Hits = dict[str, list[int]]


class TermSet:
    """Labelled requirements; a label is present where one of its requirements is met: every
    token's stem found within ``TOKEN_SPAN`` characters per token of the anchor token's."""

    def __init__(self, items: Iterable[tuple[str, Requirement]], *, ordered: bool = True) -> None:
        self.ordered = ordered  # False: every stem anywhere in the range will do
        self._by_first: dict[str, list[tuple[str, Requirement]]] = defaultdict(list)
        self._by_label: dict[str, list[tuple[str, Requirement]]] = defaultdict(list)
        # anchor stem -> a second token's stem (None: a one-token requirement) -> requirements;
        # most requirements with a frequent anchor ("draft", «проект») fail for want of a
        # second stem, which a dictionary lookup tells
        self._by_pair: dict[str, dict[str | None, list[tuple[str, Requirement]]]] = {}
        self._single: dict[str, set[str]] = defaultdict(set)  # one-token requirements
        self.always: list[str] = []
        self.stems: set[str] = set()  # what to look for: a stem, or a stem + WHOLE
        for label, req in items:
            if not req:
                self.always.append(label)  # nothing literal to look for: every unit qualifies
                continue
            # anchor on the token with the longest stem (the rarest, as a rule): "draft law"
            # is looked up from "draft", «проект постановления» from «постановлен»
            anchor = max(range(len(req)), key=lambda i: min(len(a) for a in req[i][0]))
            arranged = (req[anchor], *req[:anchor], *req[anchor + 1 :])
            seconds: tuple[str | None, ...] = (None,)
            if len(arranged) > 1:
                second = max(arranged[1:], key=lambda token: min(len(a) for a in token[0]))
                seconds = second[0]
            for stem in req[anchor][0]:
                self._by_first[stem].append((label, arranged))
                self._by_label[label].append((stem, arranged))
                pairs = self._by_pair.setdefault(stem, {})
                for other in seconds:
                    pairs.setdefault(other, []).append((label, arranged))
                if len(arranged) == 1:
                    self._single[stem].add(label)
            for alts, _index in req:
                self.stems.update(alts)

    def labels(
        self,
        hits: Hits,
        start: int = 0,
        end: int | None = None,
        only: Collection[str] | None = None,
    ) -> set[str]:
        """Labels whose requirement is met by stems found within [start, end) (``only``: of
        these labels alone)."""
        found = set(self.always if only is None else (a for a in self.always if a in only))
        if not self.ordered and start <= 0 and end is None:
            # anywhere in the text: a requirement is met when each token's stem occurs
            for _stem, label, req in self._todo(hits, only):
                if label not in found and all(any(a in hits for a in alts) for alts, _i in req[1:]):
                    found.add(label)
            return found
        for stem, label, req in self._todo(hits, only):
            if label not in found and self._met(req, hits[stem], hits, start, end, every=False):
                found.add(label)
        return found

    def present(self, keys: AbstractSet[str]) -> set[str]:
        """Labels whose requirement is met somewhere, by presence alone (unordered sets):
        each token's stem is among ``keys``, the stems found in a text."""
        found = set(self.always)
        for stem in keys & self._by_pair.keys():
            pairs = self._by_pair[stem]
            for second in pairs.keys() & keys:
                for label, req in pairs[second]:
                    if label not in found and all(
                        any(a in keys for a in alts) for alts, _i in req[1:]
                    ):
                        found.add(label)
            found.update(self._single.get(stem, ()))
        return found

    def anchors(
        self, hits: Hits, start: int = 0, end: int | None = None, only: Collection[str] = ()
    ) -> dict[str, list[int]]:
        """For each of the labels ``only`` met within [start, end): every position of an anchor
        stem at which one of its requirements is met (a match of spaCy's includes the word
        there); ``[]`` for a label with nothing literal to look for, met anywhere."""
        found: dict[str, list[int]] = {a: [] for a in self.always if a in only}
        for stem, label, req in self._todo(hits, only):
            if label in found and not found[label]:
                continue  # met anywhere
            at = self._met(req, hits[stem], hits, start, end, every=True)
            if at:
                found.setdefault(label, []).extend(at)
        return found

    def _todo(self, hits: Hits, only: Collection[str] | None) -> list[tuple[str, str, Requirement]]:
        """(anchor stem found, label, requirement) to check."""
        if only is not None and len(only) * 8 < len(hits):
            return [
                (stem, label, req)
                for label in only
                for stem, req in self._by_label.get(label, ())
                if stem in hits
            ]
        todo = []
        for stem in hits.keys() & self._by_pair.keys():
            pairs = self._by_pair[stem]
            for second in (*(pairs.keys() & hits.keys()), None):
                for label, req in pairs.get(second, ()):
                    if only is None or label in only:
                        todo.append((stem, label, req))
        return todo

    def _met(
        self,
        req: Requirement,
        anchors: list[int],
        hits: Hits,
        start: int,
        end: int | None,
        *,
        every: bool,
    ) -> list[int]:
        """Anchors within [start, end) at which ``req`` is met (the first one only, unless
        ``every``)."""
        last = sys.maxsize if end is None else end - 1
        if start > 0 or end is not None:
            anchors = anchors[
                bisect.bisect_left(anchors, start) : bisect.bisect_right(anchors, last)
            ]
            if not anchors:
                return []
        if self.ordered:
            return _within(req, anchors, hits, start, last, every=every)
        if all(
            any(_any_between(hits.get(a, ()), start, last) for a in alts) for alts, _i in req[1:]
        ):
            return anchors if every else anchors[:1]
        return []


def _within(
    req: Requirement, anchors: list[int], hits: Hits, first: int, last: int, *, every: bool
) -> list[int]:
    """The anchors with every other token's stem on the right side, within ``TOKEN_SPAN``
    characters per token between them (and within [first, last])."""
    base = req[0][1]
    others: list[tuple[list[list[int]], int]] = []
    for alts, index in req[1:]:  # a token none of whose stems occurs fails at once
        found = [hits[a] for a in alts if a in hits]
        if not found:
            return []
        others.append((found, index - base))
    met = []
    for p in anchors:
        for found, delta in others:
            lo, hi = (
                (p + 1, p + TOKEN_SPAN * delta) if delta > 0 else (p + TOKEN_SPAN * delta, p - 1)
            )
            lo, hi = max(lo, first), min(hi, last)
            if not any(_any_between(positions, lo, hi) for positions in found):
                break
        else:
            met.append(p)
            if not every:
                break
    return met


def _any_between(sorted_positions: Sequence[int], lo: int, hi: int) -> bool:
    k = bisect.bisect_left(sorted_positions, lo)
    return k < len(sorted_positions) and sorted_positions[k] <= hi


class TriggerIndex:
    """One Aho-Corasick automaton over every stem of every TermSet.

    A stem that is only ever needed as a whole word is keyed with the character that may
    follow it (a space or an apostrophe), so its many occurrences inside longer words ("it"
    in "items", "e" in "every") are never reported. A guarded stem is reported only in words
    whose lemma is one of its guard's (see :func:`phrase_guards`)."""

    def __init__(self, stems: Iterable[str], guards: Guards | None = None) -> None:
        self._automaton = ahocorasick.Automaton()
        self._guards = guards or {}
        for stem in set(stems):
            bare = stem.rstrip(WHOLE)
            if not bare:
                continue
            if stem == bare:  # keyed after a space: only word starts are reported
                self._automaton.add_word(" " + bare, (stem, len(bare)))
            else:  # and before a space or an apostrophe: only whole words
                for after in " '":
                    self._automaton.add_word(" " + bare + after, (stem, len(bare) + 1))
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def scan(self, text: str, original: str | None = None) -> Hits:
        """Stems at word starts of ``text``, which must come from :func:`spaced` (of
        ``original``, the text itself: if given, guarded stems are checked at once)."""
        found: Hits = defaultdict(list)
        if self._empty:
            return found
        # the key's space is at padded[start]: in ``text`` the stem starts at end - back
        # (the last character of a whole-word key is the one after the word)
        for end, (stem, back) in self._automaton.iter(" " + text + " "):
            found[stem].append(end - back)
        return found if original is None else self.guard(found, text, original)

    def guard(self, found: Hits, text: str, original: str) -> Hits:
        """``found`` without the hits of guarded stems in words of other lemmas. Only an
        economy: it can be left out, or done once a document is worth it."""
        if not self._guards:
            return found
        out = found
        for stem in self._guards.keys() & found.keys():
            kept = [p for p in found[stem] if _may_be(self._guards[stem], original, text, p)]
            if len(kept) < len(found[stem]):
                if out is found:
                    out = dict(found)  # the same object back when nothing is left out
                if kept:
                    out[stem] = kept
                else:
                    del out[stem]
        return out


def _may_be(lemmas: frozenset[str], original: str, text: str, start: int) -> bool:
    """Whether the word at ``start`` may be a token with one of ``lemmas``: spaCy's token is
    the same alphabetic word (alphabetic runs are never cut by the tokenizer) and gets its
    lemma from the same function; a word with digits or apostrophes may be cut, so it may."""
    end = text.find(" ", start)
    word = text[start:] if end < 0 else text[start:end]
    if not word.isalpha() or len(word) > GUARDED_WORD:
        return True
    return lemma_of(original[start : start + len(word)].lower()) in lemmas
