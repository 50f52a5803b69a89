"""Trigger stems: what makes the flagger fast, and what context, exclusions and the gazetteer
are matched with.

Every rule phrase and token pattern is reduced to a *requirement*: one stem per token (the
prefix shared by every form of the word, so any inflection starts with it). One Aho-Corasick
automaton finds all stems in a document at word starts; only text units that satisfy some
rule's requirement go through spaCy. A full pass (``prefilter=False``) gives the same output —
the prefilter only skips units that cannot match — and tests check that on the corpora.
"""

from __future__ import annotations

import bisect
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ahocorasick

from nlp.components import lemma_of, morph

__all__ = [
    "APOSTROPHES",
    "Hits",
    "Requirement",
    "TermSet",
    "TriggerIndex",
    "fold",
    "pattern_requirement",
    "phrase_requirement",
    "split_units",
]

# Apostrophe look-alikes in Uzbek Latin ("sunʼiy", "oʻzbek") fold one-for-one: offsets hold.
APOSTROPHES = str.maketrans({c: "'" for c in "ʻʼ’‘`´"})
_FOLD = str.maketrans({**{c: "'" for c in "ʻʼ’‘`´"}, "ё": "е"})
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_REGEX_META = set(".^$*+?{}[]\\|()")
MAX_UNIT = 20_000  # characters handed to spaCy at once; far below its max_length

Requirement = tuple[tuple[str, ...], ...]  # per token: alternative stems (any one will do)


def fold(text: str) -> str:
    """Lowercase, ё→е, apostrophes unified — always the same length as ``text``."""
    low = text.lower()
    if len(low) != len(text):  # "İ".lower() is two code points: fold char by char instead
        low = "".join(c.lower()[:1] or c for c in text)
    return low.translate(_FOLD)


@lru_cache(maxsize=50_000)
def word_stem(word: str) -> str:
    """A prefix that every form of ``word``'s lemma starts with (Russian lexemes via pymorphy3;
    other words as they are, folded)."""
    word = fold(word)
    if not (_CYRILLIC.search(word) and word.isalpha()):
        return word
    lemma = lemma_of(word)
    prefixes = []
    for parse in morph().parse(word):
        if fold(str(parse.normal_form)) == lemma:
            # "поцифровее", "наиискусственнейший": prefixed comparative and superlative forms
            # would shrink the stem to nothing; such forms are left to the full pass.
            forms = [
                fold(str(f.word))
                for f in parse.lexeme
                if not {"Cmp2", "Supr"} & set(f.tag.grammemes)
            ]
            prefixes.append(os.path.commonprefix(forms))  # noqa: RUF071 - char prefix wanted
    stem = min(prefixes, key=len) if prefixes else word
    return stem or word[:1]


def phrase_requirement(phrase: str) -> Requirement:
    words = _WORD.findall(fold(phrase.translate(APOSTROPHES)))
    return tuple((word_stem(w),) for w in words)


def _literal_prefix(regex: str) -> tuple[str, ...]:
    """Literal alternatives a regex token must start with: "^abc…" or "^(ab|cd)…"; () if none."""
    if not regex.startswith("^"):
        return ()
    body = regex[1:]
    group = re.match(r"\(([^()\\[\]{}.*+?^$]+)\)", body)
    if group:
        return tuple(fold(alt) for alt in group.group(1).split("|") if alt)
    prefix = ""
    for ch in body:
        if ch in _REGEX_META:
            break
        prefix += ch
    if prefix and body[len(prefix) : len(prefix) + 1] in ("?", "*", "{"):
        prefix = prefix[:-1]  # the last literal is optional
    return (fold(prefix),) if prefix else ()


def pattern_requirement(pattern: Sequence[Mapping[str, Any]]) -> Requirement:
    """One requirement per token pattern whose text is fixed or starts with a literal."""
    out: list[tuple[str, ...]] = []
    for token in pattern:
        if token.get("OP") in ("?", "*", "!"):
            continue
        alts: tuple[str, ...] = ()
        for key in ("LOWER", "ORTH", "TEXT", "NORM", "LEMMA"):
            value = token.get(key)
            if isinstance(value, str):
                alts = (word_stem(value) if key == "LEMMA" else fold(value),)
            elif isinstance(value, dict) and isinstance(value.get("REGEX"), str):
                alts = _literal_prefix(value["REGEX"])
            elif isinstance(value, dict) and isinstance(value.get("IN"), list):
                alts = tuple(word_stem(v) if key == "LEMMA" else fold(v) for v in value["IN"])
            if alts:
                break
        if alts:
            out.append(alts)
    return tuple(out)


@dataclass(frozen=True)
class Hits:
    """Stems found at word starts in one folded text, sorted by position."""

    starts: list[int]
    stems: list[str]

    def present(
        self, start: int = 0, end: int | None = None, skip: Sequence[tuple[int, int]] = ()
    ) -> set[str]:
        lo = bisect.bisect_left(self.starts, start)
        hi = len(self.starts) if end is None else bisect.bisect_left(self.starts, end)
        return {
            self.stems[i]
            for i in range(lo, hi)
            if not any(s <= self.starts[i] < e for s, e in skip)
        }


class TermSet:
    """Labelled requirements; a label is present where any of its requirements is met."""

    def __init__(self, items: Iterable[tuple[str, Requirement]]) -> None:
        self._by_first: dict[str, list[tuple[str, Requirement]]] = defaultdict(list)
        self.always: list[str] = []
        self.stems: set[str] = set()
        for label, req in items:
            if not req:
                self.always.append(label)  # nothing literal to look for: every unit qualifies
                continue
            for stem in req[0]:
                self._by_first[stem].append((label, req))
            for alts in req:
                self.stems.update(alts)

    def labels(self, present: set[str]) -> set[str]:
        found = set(self.always)
        for stem in present:
            for label, req in self._by_first.get(stem, ()):
                if label not in found and all(any(a in present for a in alts) for alts in req):
                    found.add(label)
        return found


class TriggerIndex:
    """One Aho-Corasick automaton over every stem of every TermSet."""

    def __init__(self, stems: Iterable[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        for stem in set(stems):
            if stem:
                self._automaton.add_word(stem, stem)
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def scan(self, folded: str) -> Hits:
        found: list[tuple[int, str]] = []
        if not self._empty:
            for end, stem in self._automaton.iter(folded):
                start = end - len(stem) + 1
                if start == 0 or not folded[start - 1].isalnum():
                    found.append((start, stem))
        found.sort()
        return Hits([s for s, _ in found], [t for _, t in found])


def split_units(text: str, max_len: int = MAX_UNIT) -> list[tuple[int, int]]:
    """Paragraphs as (start, end); a paragraph longer than ``max_len`` is cut at the last
    sentence end (or space) before the limit. Sentences never cross a unit boundary."""
    units: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        while end - start > max_len:
            window = text[start : start + max_len]
            cut = max(window.rfind(". "), window.rfind("! "), window.rfind("? "))
            if cut < max_len // 2:
                cut = window.rfind(" ")
            cut = start + (cut + 1 if cut > 0 else max_len)
            units.append((start, cut))
            start = cut
        if text[start:end].strip():
            units.append((start, end))
    return units
