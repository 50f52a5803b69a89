"""The prefilter: one Aho-Corasick scan finds every rule's stems at word starts, and only text
units that satisfy some rule's requirement go through spaCy. A full pass (``prefilter=False``)
gives the same output — the prefilter only skips units that cannot match — and tests check
that on the corpora.

Per document, in order of cost: the scan (C speed); which context labels may occur (by the
presence of their stems) and so which rules can yield a signal (remembered per set of context
labels); which of those rules have a requirement met in order and close together; the same
after the words of guarded stems are checked against their lemmas; and, per unit, which
requirements are met in it.
"""

from __future__ import annotations

import bisect
import sys
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import ahocorasick

from regwatch.nlp.components import lemma_of
from regwatch.nlp.stems import WHOLE, Guards, Requirement
from regwatch.nlp.text import field_units, spaced

__all__ = ["Hits", "Prefilter", "Scan", "Selection", "TermSet", "TriggerIndex"]

TOKEN_SPAN = 64  # a requirement's stems must lie within this many characters per token
GUARDED_WORD = 64  # longer "words" are not lemmatised for a guard (they are kept)
CONTEXTS = 4096  # sets of context labels whose possible rules are remembered

# Where each stem was found at a word start of one folded text: stem -> sorted positions.
# A stem found as a whole word is also listed under ``stem + WHOLE``.
Hits = dict[str, list[int]]
# A unit (start, end) with the labels met in it, each with the positions of the anchor stems
# at which it is met (every match of the label's rule includes the word at one of them; none
# for a label with nothing literal to look for).
Unit = tuple[int, int, dict[str, list[int]]]


class TermSet:
    """Labelled requirements. A label is present (:meth:`present`, for context) where each
    token of one of its requirements has a stem anywhere in the text; it is met (:meth:`met`,
    :meth:`units`, for rules) where each token's stem lies within ``TOKEN_SPAN`` characters per
    token of the anchor token's, on the right side."""

    def __init__(self, items: Iterable[tuple[str, Requirement]]) -> None:
        # label -> anchor stem -> requirements with the anchor token first
        self.by_label: dict[str, dict[str, list[Requirement]]] = defaultdict(dict)
        # anchor stem -> a second token's stem -> requirements of two tokens or more, with
        # their labels; most requirements with a frequent anchor ("draft", «проект») fail for
        # want of a second stem, which a dictionary lookup tells. A requirement of two tokens
        # whose second has one stem comes with the signed distance in characters the second
        # stem may lie from the anchor (None for the others).
        self._by_pair: dict[str, dict[str, list[tuple[str, Requirement, int | None]]]] = {}
        self._single: dict[str, set[str]] = defaultdict(set)  # stem -> one-token labels
        self._anchored: dict[str, set[str]] = defaultdict(set)  # anchor stem -> labels
        self.always: list[str] = []
        self.stems: set[str] = set()  # what to look for: a stem, or a stem + WHOLE
        self.stems_of: dict[str, set[str]] = defaultdict(set)  # label -> its stems
        for label, req in items:
            if not req:
                self.always.append(label)  # nothing literal to look for: every unit qualifies
                continue
            # anchor on the token with the longest stem (the rarest, as a rule): "draft law"
            # is looked up from "draft", «проект постановления» from «постановлен»
            anchor = max(range(len(req)), key=lambda i: min(len(a) for a in req[i][0]))
            arranged = (req[anchor], *req[:anchor], *req[anchor + 1 :])
            seconds: tuple[str, ...] = ()
            if len(arranged) > 1:
                second = max(arranged[1:], key=lambda token: min(len(a) for a in token[0]))
                seconds = second[0]
            reach = None
            if len(arranged) == 2 and len(arranged[1][0]) == 1:
                reach = TOKEN_SPAN * (arranged[1][1] - arranged[0][1])
            for stem in req[anchor][0]:
                self._anchored[stem].add(label)
                self.by_label[label].setdefault(stem, []).append(arranged)
                if len(arranged) == 1:
                    self._single[stem].add(label)
                    continue
                pairs = self._by_pair.setdefault(stem, {})
                for other in seconds:
                    pairs.setdefault(other, []).append((label, arranged, reach))
            for alts, _index in req:
                self.stems.update(alts)
                self.stems_of[label].update(alts)

    def present(self, keys: AbstractSet[str]) -> set[str]:
        """Labels whose requirement is met somewhere, by presence alone (unordered sets):
        each token's stem is among ``keys``, the stems found in a text."""
        found = set(self.always)
        for stem in keys & self._single.keys():
            found |= self._single[stem]
        for stem in keys & self._by_pair.keys():
            pairs = self._by_pair[stem]
            for second in pairs.keys() & keys:
                for label, req, _reach in pairs[second]:
                    if label in found:
                        continue
                    for alts, _i in req[1:]:  # every token has one of its stems in keys
                        if keys.isdisjoint(alts):
                            break
                    else:
                        found.add(label)
        return found

    def met(self, hits: Hits, only: AbstractSet[str]) -> set[str]:
        """The labels among ``only`` with a requirement met somewhere in the text (in order and
        close together: see :func:`_within`)."""
        found = {a for a in self.always if a in only}
        for stem in hits.keys() & self._single.keys():  # one token: met where its stem is
            found |= self._single[stem] & only
        for stem in hits.keys() & self._by_pair.keys():
            if only.isdisjoint(self._anchored[stem]):
                continue
            pairs = self._by_pair[stem]
            anchors = hits[stem]
            for second in pairs.keys() & hits.keys():
                for label, req, reach in pairs[second]:
                    if label in found or label not in only:
                        continue
                    if reach is None:
                        if _within(req, anchors, hits):
                            found.add(label)
                    elif _near(anchors, hits[second], reach):
                        found.add(label)
        return found

    def units(
        self, hits: Hits, units: Sequence[tuple[int, int]], labels: Collection[str]
    ) -> list[Unit]:
        """The units (start, end) in which a requirement of one of ``labels`` is met, in order,
        each with the labels met in it and where (see ``Unit``)."""
        starts = [u0 for u0, _u1 in units]
        met: dict[int, dict[str, list[int]]] = defaultdict(dict)
        grouped: dict[str, list[tuple[int, list[int]]]] = {}  # stem -> anchors unit by unit
        for label in labels:
            if label in self.always:
                for k in range(len(units)):
                    met[k][label] = []
                continue
            anchors = self.by_label.get(label, {})
            for stem in anchors.keys() & hits.keys():
                groups = grouped.get(stem)
                if groups is None:
                    groups = grouped[stem] = _by_unit(hits[stem], starts, units)
                for req in anchors[stem]:
                    others = _others(req, hits)
                    if others is None:
                        continue
                    for k, at in groups:
                        u0, u1 = units[k]
                        met_at = _anchored_at(others, at, u0, u1 - 1, True)
                        if met_at:
                            met[k].setdefault(label, []).extend(met_at)
        return [(*units[k], met[k]) for k in sorted(met)]


def _by_unit(
    positions: list[int], starts: list[int], units: Sequence[tuple[int, int]]
) -> list[tuple[int, list[int]]]:
    """The sorted ``positions`` unit by unit, as (unit index, positions in it): a match never
    crosses a unit's end."""
    groups = []
    i = 0
    while i < len(positions):
        k = bisect.bisect_right(starts, positions[i]) - 1
        if k < 0:  # before the first unit (or there is none)
            i += 1
            continue
        j = bisect.bisect_left(positions, units[k][1], i)  # the anchors in this unit
        if j > i:
            groups.append((k, positions[i:j]))
        i = max(j, i + 1)
    return groups


@dataclass(frozen=True)
class Scan:
    """One Aho-Corasick scan of a document's fields: the joined and the spaced text, the stems
    found and the context labels that may occur (by the presence of their stems)."""

    joined: str
    folded: str
    hits: Hits
    context: frozenset[str]


@dataclass(frozen=True)
class Selection:
    """What the prefilter leaves for spaCy: per field, its spaced text (for the context scan)
    and the units to match, each with the labels (rules, or rules' patterns) met in it."""

    folded: dict[str, str]
    units: dict[str, list[Unit]]


class Prefilter:
    """Decides, from one scan of a document, which of its units can hold a match of which
    rules. ``conditions`` gives, per trigger label, sets of context labels one of each of
    which must occur for the rule to yield a signal (its required context, or the context a
    rule that scores 0 without it needs)."""

    def __init__(
        self,
        triggers: Iterable[tuple[str, Requirement]],
        context: Iterable[tuple[str, Requirement]],
        guards: Guards,
        conditions: Mapping[str, Sequence[frozenset[str]]],
    ) -> None:
        self._triggers = TermSet(triggers)
        self._context = TermSet(context)
        self._conditions = dict(conditions)
        # context stems have no guards: they are matched by stem, not by lemma
        self._index = TriggerIndex(
            self._triggers.stems | self._context.stems,
            {s: g for s, g in guards.items() if s not in self._context.stems},
        )
        self._possible: dict[frozenset[str], frozenset[str]] = {}

    def scan(self, fields: Mapping[str, str]) -> Scan:
        """One scan of ``fields`` (name -> text), joined by newlines (a unit never crosses
        one), each field spaced on its own; with the context labels that may occur."""
        joined = "\n".join(fields.values())
        folded = " ".join(map(spaced, fields.values()))
        hits = self._index.scan(folded)
        return Scan(joined, folded, hits, frozenset(self._context.present(hits.keys())))

    def select(self, fields: Mapping[str, str], scan: Scan | None = None) -> Selection | None:
        """The units of ``fields`` worth matching; None when there are none. ``scan`` is
        :meth:`scan` of the same fields, when the caller has it already."""
        if scan is None:
            scan = self.scan(fields)
        joined, folded, hits = scan.joined, scan.folded, scan.hits
        possible = self.possible(scan.context)
        if not possible:
            return None
        labels = self._triggers.met(hits, possible)
        if not labels:
            return None
        # a second look, with the words of guarded stems checked against their lemmas
        watched = set().union(*(self._triggers.stems_of[label] for label in labels))
        guarded = self._index.guard(hits, folded, joined, watched)
        if guarded is not hits:
            hits = guarded
            labels = self._triggers.met(hits, labels)
            if not labels:
                return None
        found = self._triggers.units(hits, field_units(list(fields.values())), labels)
        if not found:
            return None
        parts: dict[str, str] = {}
        units: dict[str, list[Unit]] = {}
        base = 0
        for name, value in fields.items():
            end = base + len(value)
            parts[name] = folded[base:end]
            units[name] = [
                (u0 - base, u1 - base, {k: [p - base for p in at] for k, at in met.items()})
                for u0, u1, met in found
                if base <= u0 and u1 <= end
            ]
            base = end + 1
        return Selection(parts, {name: found for name, found in units.items() if found})

    def possible(self, context: AbstractSet[str]) -> frozenset[str]:
        """The trigger labels whose rules can yield a signal when the ``context`` labels (and
        no others) may occur."""
        key = frozenset(context)
        found = self._possible.get(key)
        if found is None:
            possible = []
            for label, needs in self._conditions.items():
                for n in needs:  # one of each of its sets of context labels may occur
                    if n.isdisjoint(key):
                        break
                else:
                    possible.append(label)
            found = frozenset(possible)
            if len(self._possible) < CONTEXTS:
                self._possible[key] = found
        return found


def _within(
    req: Requirement,
    anchors: list[int],
    hits: Hits,
    first: int = 0,
    last: int = sys.maxsize,
    *,
    every: bool = False,
) -> list[int]:
    """The anchors (the first only, unless ``every``) with every other token's stem on the
    right side, within ``TOKEN_SPAN`` characters per token of it (and within [first, last])."""
    others = _others(req, hits)
    return [] if others is None else _anchored_at(others, anchors, first, last, every)


# per token after the anchor: the sorted positions of each of its stems found, and the signed
# reach in characters (after the anchor when positive, before it when negative)
Others = list[tuple[list[list[int]], int]]


def _others(req: Requirement, hits: Hits) -> Others | None:
    """The tokens of ``req`` after its anchor as :data:`Others`; None when a token has none
    of its stems in ``hits`` (then no anchor qualifies)."""
    base = req[0][1]
    others: Others = []
    for alts, index in req[1:]:
        found = [hits[a] for a in alts if a in hits]
        if not found:
            return None
        others.append((found, TOKEN_SPAN * (index - base)))
    return others


def _anchored_at(
    others: Others, anchors: Sequence[int], first: int, last: int, every: bool
) -> list[int]:
    """:func:`_within` once the other tokens are looked up: for each anchor, one binary
    search per stem list until one has a position in the token's window."""
    bisect_left = bisect.bisect_left
    met = []
    for p in anchors:
        for found, reach in others:
            if reach > 0:
                lo, hi = p + 1, p + reach
            else:
                lo, hi = p + reach, p - 1
            if lo < first:
                lo = first
            if hi > last:
                hi = last
            for positions in found:
                k = bisect_left(positions, lo)
                if k < len(positions) and positions[k] <= hi:
                    break
            else:  # no stem of this token in its window: not this anchor
                break
        else:
            met.append(p)
            if not every:
                break
    return met


def _near(anchors: list[int], others: list[int], reach: int) -> bool:
    """:func:`_within` for two tokens, the second with one stem found at ``others``: whether
    one of ``others`` lies after an anchor by at most ``reach`` characters (before it, for a
    negative ``reach``)."""
    n = len(others)
    if reach > 0:
        for p in anchors:
            k = bisect.bisect_right(others, p)
            if k < n and others[k] <= p + reach:
                return True
    else:
        for p in anchors:
            k = bisect.bisect_left(others, p + reach)
            if k < n and others[k] < p:
                return True
    return False


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

    def scan(self, text: str) -> Hits:
        """Stems at word starts of ``text``, which must come from :func:`spaced`."""
        found: Hits = defaultdict(list)
        if self._empty:
            return found
        # the key's space is at padded[start]: in ``text`` the stem starts at end - back
        # (the last character of a whole-word key is the one after the word)
        for end, (stem, back) in self._automaton.iter(" " + text + " "):
            found[stem].append(end - back)
        return found

    def starts(self, text: str) -> list[int]:
        """Where a stem starts in ``text`` (from :func:`spaced`), in order, each once:
        ``sorted({p for ps in self.scan(text).values() for p in ps})``."""
        if self._empty:
            return []
        return sorted({end - back for end, (_stem, back) in self._automaton.iter(f" {text} ")})

    def guard(
        self, found: Hits, text: str, original: str, stems: AbstractSet[str] | None = None
    ) -> Hits:
        """``found`` without the hits of guarded stems (of ``stems`` only, if given) in words
        of other lemmas. Only an economy: it can be left out, or done once a document is worth
        it."""
        if not self._guards:
            return found
        out = found
        watched = self._guards.keys() & found.keys()
        for stem in watched if stems is None else watched & stems:
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
