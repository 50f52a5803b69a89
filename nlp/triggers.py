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
import sys
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from functools import lru_cache
from typing import Any

import ahocorasick

from nlp.components import lemma_of, morph

__all__ = [
    "APOSTROPHES",
    "Guards",
    "Hits",
    "Requirement",
    "TermSet",
    "TriggerIndex",
    "fold",
    "pattern_guards",
    "pattern_requirement",
    "phrase_guards",
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
TOKEN_SPAN = 64  # a requirement's stems must lie within this many characters per token
CONTEXT_PREFIX = 5  # nlp.terms.MIN_PREFIX: shorter Latin context words match whole
UNBOUNDED = 1_000  # index step after a wildcard token: no distance bound within a unit
GUARDED_WORD = 64  # longer "words" are not lemmatised for a guard (they are kept)

# Per token: alternative stems (any one will do) and the token's position in the phrase or
# pattern, which bounds how far from each other the stems may lie.
Requirement = tuple[tuple[tuple[str, ...], int], ...]


_APOSTROPHE_LIKE = "ʻʼ’‘`´"
# every other non-alphanumeric character becomes a space: ASCII ones by byte translation,
# frequent others by replace, anything left by the (slower, exact) regex
_ASCII_SPACING = str.maketrans(
    {c: " " for c in map(chr, range(128)) if not c.isalnum() and c != "'"}
)
_BYTE_SPACING = bytes(
    b if b >= 128 or chr(b).isalnum() or b == ord("'") else ord(" ") for b in range(256)
)
_FREQUENT_NON_ASCII = "\u00a0«»—–…“”„№•·\u2009\u202f\u200b"
_NON_WORD = re.compile(r"[^\w' ]|_")
_OPENING_QUOTE = re.compile(r"(?<![^\W_])'")


def spaced(text: str) -> str:
    """:func:`fold`, with every other non-alphanumeric character turned into a space — so a
    stem keyed with a leading space is found only where a word starts. Same length.

    Built from C-level string operations; a per-character translation table (or one regex
    over every character) was the slowest step of the prefilter."""
    low = text.lower()
    if len(low) != len(text):  # "İ".lower() is two code points: fold char by char instead
        low = "".join(c.lower()[:1] or c for c in text)
    for c in _APOSTROPHE_LIKE:  # ʻ and ʼ are letters to Unicode; all of them fold to '
        if c in low:
            low = low.replace(c, "'")
    if low.isascii():
        low = low.translate(_ASCII_SPACING)  # CPython's fast path for ASCII strings
    else:
        if "ё" in low:
            low = low.replace("ё", "е")
        low = (
            low.encode("utf-8", "surrogatepass")
            .translate(_BYTE_SPACING)
            .decode("utf-8", "surrogatepass")
        )
        for c in _FREQUENT_NON_ASCII:
            if c in low:
                low = low.replace(c, " ")
        if not low.replace(" ", "").replace("'", "").isalnum():
            low = _NON_WORD.sub(" ", low)  # rarer separators, symbols, emoji
    # an apostrophe that does not follow a letter opens a quote, not a word ("‘digital")
    if "'" in low and (low[0] == "'" or " '" in low or "''" in low):
        low = _OPENING_QUOTE.sub(" ", low)
    return low


def unify_apostrophes(text: str) -> str:
    """``text.translate(APOSTROPHES)``, by ``str.replace`` (translate is slow on non-ASCII)."""
    for c in _APOSTROPHE_LIKE:
        if c in text:
            text = text.replace(c, "'")
    return text


def fold(text: str) -> str:
    """Lowercase, ё→е, apostrophes unified — always the same length as ``text``."""
    low = text.lower()
    if len(low) != len(text):  # "İ".lower() is two code points: fold char by char instead
        low = "".join(c.lower()[:1] or c for c in text)
    return low.translate(_FOLD) if _NEEDS_FOLD.search(low) else low


STEM_GROUP = 3  # forms are grouped by their first letters; each group gets its own stem


@lru_cache(maxsize=50_000)
def word_stems(word: str) -> tuple[str, ...]:
    """Prefixes one of which every form of ``word``'s lemma starts with (Russian lexemes via
    pymorphy3, reached from the word and from its lemma; other words as they are, folded).

    Forms are grouped by their first three letters and each group gives the prefix its forms
    share, so suppletive forms ("её" of «она», "выше" of «высокий», "наивысший", "поцифровее")
    get stems of their own and the main stem stays long — a common prefix of one letter (or
    none at all) would make the prefilter both weak and, for forms that share nothing,
    unsound."""
    word = fold(word)
    if not (_CYRILLIC.search(word) and word.isalpha()):
        return (word,)
    lemma = lemma_of(word)
    forms = {word}
    for source in dict.fromkeys((word, lemma)):
        for parse in morph().parse(source):
            if fold(str(parse.normal_form)) == lemma:
                forms.update(fold(str(f.word)) for f in parse.lexeme)
    groups: dict[str, list[str]] = defaultdict(list)
    for form in forms:
        groups[form[:STEM_GROUP]].append(form)
    stems = {os.path.commonprefix(group) for group in groups.values()}  # noqa: RUF071
    # a stem that starts with another stem adds nothing
    return tuple(sorted(s for s in stems if not any(o != s and s.startswith(o) for o in stems)))


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
    """Stems of a phrase's words. ``whole_words``: Latin-script words must match as whole words
    — right for spaCy's LEMMA matching, where such a word's lemma is the word itself."""
    words = _WORD.findall(fold(phrase.translate(APOSTROPHES)))
    out = []
    for i, w in enumerate(words):
        if not _keep(fold(w)):
            continue
        stems = word_stems(w)
        if not _CYRILLIC.search(w):
            if whole_words:
                stems = tuple(s + WHOLE for s in stems)
            elif len(w) < CONTEXT_PREFIX:  # context terms: "AI" is "ai", "ais" or "aies", whole
                stems = tuple(s + end + WHOLE for s in stems for end in ("", "s", "es"))
        out.append((stems, i))
    return tuple(out)


# Stem -> the lemmas a word found by it must have to be of use: a stem of a word that spaCy
# matches by lemma («безопас» of «безопасный») is of no use in a word with another lemma
# («безопасности»).
Guards = dict[str, frozenset[str]]


def phrase_guards(phrase: str) -> tuple[dict[str, set[str]], set[str]]:
    """For :func:`phrase_requirement` with ``whole_words`` (a PhraseMatcher phrase on lemmas):
    the lemma each Cyrillic word's stems stand for, and the stems that stand for no one lemma
    (a word spaCy might cut differently: with digits or apostrophes)."""
    unified = phrase.translate(APOSTROPHES)
    folded = fold(unified)
    lower = unified.lower()
    guarded: dict[str, set[str]] = defaultdict(set)
    unguarded: set[str] = set()
    for m in _WORD.finditer(folded):
        w = m.group()
        if not _keep(fold(w)) or not _CYRILLIC.search(w):
            continue
        stems = word_stems(w)
        original = lower[m.start() : m.end()] if len(lower) == len(folded) else ""
        if original.isalpha() and fold(original) == w:
            for stem in stems:
                guarded[stem].add(lemma_of(original))
        else:
            unguarded.update(stems)
    return guarded, unguarded


def pattern_guards(pattern: Sequence[Mapping[str, Any]]) -> dict[str, set[str]]:
    """For :func:`pattern_requirement`: the lemmas a LEMMA token's stems stand for."""
    guarded: dict[str, set[str]] = defaultdict(set)
    for token in pattern:
        value = token.get("LEMMA")
        values = [value] if isinstance(value, str) else None
        if isinstance(value, dict) and isinstance(value.get("IN"), list):
            values = [v for v in value["IN"] if isinstance(v, str)]
        if values and all(k in ("LEMMA", "OP") for k in token):
            for v in values:
                for stem in word_stems(v):
                    guarded[stem].update(values)
    return guarded


def _literal_prefix(regex: str) -> tuple[str, ...]:
    """Literal alternatives a regex token must start with: "^abc…" or "^(ab|cd)…"; () if none.
    A regex that is nothing but the alternatives ("^abc$", "^(ab|cd)$") gives them whole."""
    if not regex.startswith("^"):
        return ()
    body = regex[1:]
    group = re.match(r"\(([^()\\[\]{}.*+?^$]+)\)(\$?)", body)
    if group:
        exact = group.group(2) == "$" and group.end() == len(body)
        return tuple(
            fold(alt) + (WHOLE if exact and _WORD.fullmatch(alt) else "")
            for alt in group.group(1).split("|")
            if alt
        )
    prefix = ""
    for ch in body:
        if ch in _REGEX_META:
            break
        prefix += ch
    if prefix and body[len(prefix) : len(prefix) + 1] in ("?", "*", "{"):
        prefix = prefix[:-1]  # the last literal is optional
    if prefix and body == prefix + "$" and _WORD.fullmatch(prefix):
        return (fold(prefix) + WHOLE,)
    return (fold(prefix),) if prefix else ()


_EXACT_TEXT = ("LOWER", "ORTH", "TEXT")  # the token's own text: a literal is a whole word


def pattern_requirement(pattern: Sequence[Mapping[str, Any]]) -> Requirement:
    """One requirement per token pattern whose text is fixed or starts with a literal."""
    out: list[tuple[tuple[str, ...], int]] = []
    index = 0
    for token in pattern:
        index += 1
        op = token.get("OP")
        if op in ("*", "+") or (isinstance(op, str) and "{" in op):
            return tuple(out)  # unbounded gap: later tokens are not required
        if op in ("?", "!"):
            index += UNBOUNDED  # a wildcard may be any token (a 200-character URL)
            continue
        alts: tuple[str, ...] = ()
        for key in ("LOWER", "ORTH", "TEXT", "NORM", "LEMMA"):
            value = token.get(key)
            if isinstance(value, str):
                alts = word_stems(value) if key == "LEMMA" else (_literal(value, key),)
            elif isinstance(value, dict) and isinstance(value.get("REGEX"), str):
                alts = _literal_prefix(value["REGEX"])
                if key not in _EXACT_TEXT:
                    alts = tuple(a.rstrip(WHOLE) for a in alts)
            elif isinstance(value, dict) and isinstance(value.get("IN"), list):
                alts = tuple(
                    s
                    for v in value["IN"]
                    for s in (word_stems(v) if key == "LEMMA" else (_literal(v, key),))
                )
            if alts:
                break
        if alts and not any(a.rstrip(WHOLE) in STOPWORDS for a in alts):
            out.append((alts, index))
    return tuple(out)


def _literal(value: str, key: str) -> str:
    """A token's literal text, folded; whole when the token must be exactly this word."""
    whole = key in _EXACT_TEXT and _WORD.fullmatch(value)
    return fold(value) + (WHOLE if whole else "")


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
                cut = max(window.rfind(" "), window.rfind("\t"))
            if cut <= 0:  # no space in 20,000 characters: not text; skip to the next space
                later = [
                    i
                    for i in (
                        text.find(" ", start + max_len, end),
                        text.find("\t", start + max_len, end),
                    )
                    if i >= 0
                ]
                start = min(later, default=end)
                continue
            units.append((start, start + cut + 1))
            start = start + cut + 1
        if text[start:end].strip():
            units.append((start, end))
    return units
