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
_NEEDS_FOLD = re.compile("[ё" + "ʻʼ’‘`´" + "]")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_REGEX_META = set(".^$*+?{}[]\\|()")
MAX_UNIT = 20_000  # characters handed to spaCy at once; far below its max_length
SHORT = 3  # words this short ("AI", «ИИ», «СНГ») are matched whole, not as prefixes
TOKEN_SPAN = 40  # a requirement's stems must lie within this many characters per token

# Per token: alternative stems (any one will do) and the token's position in the phrase or
# pattern, which bounds how far from each other the stems may lie.
Requirement = tuple[tuple[tuple[str, ...], int], ...]


def _spacing_table() -> dict[int, str]:
    table = {cp: " " for cp in range(0x30000) if not chr(cp).isalnum()}
    table.update({ord(c): "'" for c in "'ʻʼ’‘`´"})
    table[ord("ё")] = "е"
    return table


_SPACING = _spacing_table()


def spaced(text: str) -> str:
    """:func:`fold`, with every other non-alphanumeric character turned into a space — so a
    stem keyed with a leading space is found only where a word starts. Same length."""
    low = text.lower()
    if len(low) != len(text):
        low = "".join(c.lower()[:1] or c for c in text)
    return low.translate(_SPACING)


def fold(text: str) -> str:
    """Lowercase, ё→е, apostrophes unified — always the same length as ``text``."""
    low = text.lower()
    if len(low) != len(text):  # "İ".lower() is two code points: fold char by char instead
        low = "".join(c.lower()[:1] or c for c in text)
    return low.translate(_FOLD) if _NEEDS_FOLD.search(low) else low


@lru_cache(maxsize=50_000)
def word_stem(word: str) -> str:
    """A prefix that every form of ``word``'s lemma starts with (Russian lexemes via pymorphy3;
    other words as they are, folded)."""
    word = fold(word)
    if len(word) <= SHORT or not (_CYRILLIC.search(word) and word.isalpha()):
        return word  # short words are abbreviations ("ИИ", "AI"): matched whole
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


# Function words carry no evidence: leaving them out of a requirement keeps it sound (it can
# only let more text through) and keeps "the", «на», "va" out of the automaton.
STOPWORDS = frozenset(
    (  # noqa: SIM905 - a word list reads better as text
        "a an the of on in at to for by with from and or that which would will be is are as its "
        "в во на по о об от и или за к с со для до из при что как va bilan uchun bu ham ва билан "
        "учун бу ҳам мен және үшін бұл ба дар бо аз барои ки жана менен үчүн бул "
    ).split()
)


def _keep(stem: str) -> bool:
    return stem not in STOPWORDS


WHOLE = "$"  # a stem ending in this must be a whole word


def phrase_requirement(phrase: str, whole_words: bool = False) -> Requirement:
    """Stems of a phrase's words. ``whole_words``: words without Russian morphology must match
    as whole words — right for spaCy's LEMMA matching, where such a word's lemma is itself."""
    words = _WORD.findall(fold(phrase.translate(APOSTROPHES)))
    out = []
    for i, w in enumerate(words):
        if not _keep(fold(w)):
            continue
        stem = word_stem(w)
        whole = stem == fold(w) and (
            len(stem) <= SHORT or (whole_words and not _CYRILLIC.search(w))
        )
        out.append(((stem + WHOLE if whole else stem,), i))
    return tuple(out)


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
    out: list[tuple[tuple[str, ...], int]] = []
    for i, token in enumerate(pattern):
        if token.get("OP") == "*" or (isinstance(token.get("OP"), str) and "{" in token["OP"]):
            return tuple(out)  # unbounded gap: later tokens are not required
        if token.get("OP") in ("?", "!"):
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
        if alts and not any(a in STOPWORDS for a in alts):
            out.append((alts, i))
    return tuple(out)


@dataclass(frozen=True)
class Hits:
    """Stems found at word starts in one folded text, sorted by position."""

    starts: list[int]
    stems: list[str]


class TermSet:
    """Labelled requirements; a label is present where one of its requirements is met: every
    token's stem found within ``TOKEN_SPAN`` characters per token of the anchor token's."""

    def __init__(self, items: Iterable[tuple[str, Requirement]]) -> None:
        self._by_first: dict[str, list[tuple[str, Requirement]]] = defaultdict(list)
        self.always: list[str] = []
        self.stems: set[str] = set()
        for label, req in items:
            if not req:
                self.always.append(label)  # nothing literal to look for: every unit qualifies
                continue
            # anchor on the token with the longest stem (the rarest, as a rule): "draft law"
            # is looked up from "draft", «проект постановления» from «постановлен»
            anchor = max(range(len(req)), key=lambda i: min(len(a) for a in req[i][0]))
            ordered = (req[anchor], *req[:anchor], *req[anchor + 1 :])
            for stem in req[anchor][0]:
                self._by_first[stem].append((label, ordered))
            for alts, _index in req:
                self.stems.update(a.rstrip(WHOLE) for a in alts)

    def labels(self, hits: Hits, start: int = 0, end: int | None = None) -> set[str]:
        found = set(self.always)
        lo = bisect.bisect_left(hits.starts, start)
        hi = len(hits.starts) if end is None else bisect.bisect_left(hits.starts, end)
        positions: dict[str, list[int]] = defaultdict(list)
        for i in range(lo, hi):
            positions[hits.stems[i]].append(hits.starts[i])
        for stem, firsts in positions.items():
            for label, req in self._by_first.get(stem, ()):
                if label not in found and _within(req, firsts, positions):
                    found.add(label)
        return found


def _within(req: Requirement, anchors: list[int], positions: dict[str, list[int]]) -> bool:
    """Every other token's stem on the right side of an anchor, within ``TOKEN_SPAN``
    characters per token between them."""
    base = req[0][1]
    for p in anchors:
        ok = True
        for alts, index in req[1:]:
            delta = index - base
            lo, hi = (
                (p + 1, p + TOKEN_SPAN * delta) if delta > 0 else (p + TOKEN_SPAN * delta, p - 1)
            )
            if not any(lo <= q <= hi for a in alts for q in positions.get(a, ())):
                ok = False
                break
        if ok:
            return True
    return False


class TriggerIndex:
    """One Aho-Corasick automaton over every stem of every TermSet."""

    def __init__(self, stems: Iterable[str]) -> None:
        self._automaton = ahocorasick.Automaton()
        for stem in set(stems):
            if stem:  # keyed after a space: only word starts are reported
                key = " " + stem
                self._automaton.add_word(key, (stem, stem + WHOLE, len(key)))
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def scan(self, text: str) -> Hits:
        """Stems at word starts of ``text``, which must come from :func:`spaced`."""
        found: list[tuple[int, str]] = []
        if not self._empty:
            padded = " " + text + " "
            append = found.append
            for end, (stem, whole_stem, size) in self._automaton.iter(padded):
                start = end - size + 1  # in ``text``: the key's space is padded[start]
                append((start, stem))
                if padded[end + 1] in " '":
                    append((start, whole_stem))
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
