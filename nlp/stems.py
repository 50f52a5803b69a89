"""Stems: what every rule phrase, token pattern and term is reduced to for the prefilter.

A *requirement* holds one stem per token (the prefix shared by every form of the word, so any
inflection starts with it), with the token's position in the phrase; a *guard* names the
lemmas a word found by a stem must have to be of use.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from regwatch.nlp.components import lemma_of, morph
from regwatch.nlp.rules import RuleSet
from regwatch.nlp.text import APOSTROPHES, fold

__all__ = [
    "AGGLUTINATIVE_MIN",
    "PATTERNS",
    "STOPWORDS",
    "WHOLE",
    "Guards",
    "Requirement",
    "agglutinative_stem",
    "pattern_guards",
    "pattern_requirement",
    "phrase_guards",
    "phrase_requirement",
    "rule_requirements",
    "word_stems",
]

# The prefilter's label for a rule's token patterns (its phrases are labelled by the rule id):
# the rule's Matcher runs only where one of its patterns may match.
PATTERNS = "#patterns"

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_REGEX_META = set(".^$*+?{}[]\\|()")
CONTEXT_PREFIX = 5  # nlp.terms.MIN_PREFIX: shorter Latin context words match whole
UNBOUNDED = 1_000  # index step after a wildcard token: no distance bound within a unit


# Per token: alternative stems (any one will do) and the token's position in the phrase or
# pattern, which bounds how far from each other the stems may lie.
Requirement = tuple[tuple[tuple[str, ...], int], ...]


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

# Case, plural and possessive endings of Kazakh, Kyrgyz, Uzbek (both scripts) and Tajik, longest
# first. A term word written inflected ("міндеттері", "vazirligi", "маалыматтар", "серверҳо")
# matches every other inflection once they are cut off: the words of these languages are
# matched by prefix (nlp/terms.py), so the stem is what a term must hold, not one form.
_AGGLUTINATIVE_ENDINGS = tuple(
    sorted(
        (  # noqa: SIM905 - a word list reads better as text
            # Kazakh / Kyrgyz (Cyrillic): plural, genitive, dative, locative, ablative,
            # accusative, possessive
            "лар лер дар дер тар тер лор лөр дор дөр тор төр "
            "ның нің дың дің тың тің нын нин нун нүн дын дин дун дүн тын тин тун түн "
            "ға ге қа ке на не га го гө ка ко кө "
            "да де та те до дө то тө дан ден тан тен нан нен дон дөн тон төн нда нде "
            "ды ді ты ті ны ні ди ду дү ти ту тү ну нү "
            "сы сі си су сү ы і у ү ын ін "
            # Uzbek (Cyrillic and Latin)
            "лари нинг ни даги ги си и "
            "lar lari ning ni da dan dagi ga ka qa gi si i "
            # Tajik: plural and izofat
            "ҳои ҳо он ро"
        ).split(),
        key=len,
        reverse=True,
    )
)
# Russian endings, for Russian words pymorphy3 does not know («кибербезопасность»,
# «цифровизация»): cut to «кибербезопасн», «цифровизац», any case form counts.
_RUSSIAN_ENDINGS = tuple(
    sorted(
        (  # noqa: SIM905 - a word list reads better as text
            "остями остям остях остью ость ости остей ями ами ого его ому ему ыми ими ией "
            "ия ии ие ий ый ой ая яя ое ее ые ых их ую юю ом ем ам ям ах ях ь а я ы и е у ю о"
        ).split(),
        key=len,
        reverse=True,
    )
)
_RUSSIAN_LOOKING = re.compile("^[а-яё]+$")
_ALTERNATING_SUFFIX = re.compile("(л|д|т|н)(ы|і|и|у|ү|ұ)(к|қ)$|(l|d|t)i(k|q)$")
_VOICED_FINAL = ("г", "ғ", "к", "қ", "g'", "g", "k", "q")
AGGLUTINATIVE_MIN = 5  # nlp.terms.MIN_PREFIX: a stem shorter than this matches too much


@lru_cache(maxsize=50_000)
def agglutinative_stem(word: str) -> str:
    """``word`` (folded) with its Kazakh, Kyrgyz, Uzbek or Tajik endings cut off — up to two,
    the longest first, never below :data:`AGGLUTINATIVE_MIN` letters — and a final к/қ/г/ғ
    (k/q/g) dropped, which alternate before a vowel ending ("vazirlik" / "vazirligi"). A word
    pymorphy3 knows as Russian, or one whose stem it would take for Russian, stays whole: it is
    matched by lemma. A word in the Russian alphabet alone with no such ending loses a Russian
    one (a Russian word pymorphy3 does not know: «кибербезопасности» → «кибербезопасн»)."""
    if not word.isalpha() and "'" not in word:
        return word
    cyrillic = bool(_CYRILLIC.search(word))
    if cyrillic and morph().word_is_known(word):
        return word
    stem = word
    for _ in range(2):
        for end in _AGGLUTINATIVE_ENDINGS:
            if stem.endswith(end) and len(stem) - len(end) >= AGGLUTINATIVE_MIN:
                stem = stem[: -len(end)]
                break
        else:
            break
    # only after an ending, or at the end of the -лик/-лық/-lik suffix ("Sergek", "working"
    # and "дипфейк" keep theirs)
    if stem != word or _ALTERNATING_SUFFIX.search(stem):
        for final in _VOICED_FINAL:
            if stem.endswith(final) and len(stem) - len(final) >= AGGLUTINATIVE_MIN:
                stem = stem[: -len(final)]
                break
    if cyrillic and stem != word and morph().word_is_known(stem):
        return word
    if stem == word and _RUSSIAN_LOOKING.match(word):
        for end in _RUSSIAN_ENDINGS:
            if word.endswith(end) and len(word) - len(end) >= AGGLUTINATIVE_MIN:
                if not morph().word_is_known(word[: -len(end)]):
                    stem = word[: -len(end)]
                break
    return stem


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
        if not whole_words:  # context terms: a Turkic or Tajik word matches by its stem
            stem = agglutinative_stem(fold(w))
            if stem != fold(w):
                stems = (*(s for s in stems if not s.startswith(stem)), stem)
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


def rule_requirements(rules: RuleSet) -> tuple[list[tuple[str, Requirement]], Guards]:
    """Every phrase's and token pattern's requirement, labelled by the rule id (phrases) or
    the rule id + ``PATTERNS``, and the guards of the stems that have one in every use."""
    triggers: list[tuple[str, Requirement]] = []
    guards: dict[str, set[str]] = defaultdict(set)
    unguarded: set[str] = set()
    for rule in rules.rules:
        for p in rule.phrases:
            req = phrase_requirement(p, whole_words=True)
            triggers.append((rule.id, req))
            _merge_guards(req, *phrase_guards(p), guards, unguarded)
        for pattern in rule.patterns:
            req = pattern_requirement(pattern)
            triggers.append((rule.id + PATTERNS, req))
            _merge_guards(req, pattern_guards(pattern), set(), guards, unguarded)
    return triggers, {s: frozenset(lemmas) for s, lemmas in guards.items() if s not in unguarded}


def _merge_guards(
    req: Requirement,
    guarded: dict[str, set[str]],
    unguarded: set[str],
    into: dict[str, set[str]],
    unguarded_into: set[str],
) -> None:
    """A stem keeps a guard only if every use of it has one."""
    for alts, _index in req:
        for stem in alts:
            if stem in guarded and stem not in unguarded:
                into[stem] |= guarded[stem]
            else:
                unguarded_into.add(stem)
