"""Stems: the Kazakh/Kyrgyz/Uzbek/Tajik (and unknown Russian) stems that term words are cut to,
so that any inflection of a context word, exclusion or gazetteer name counts."""

from __future__ import annotations

import pytest

from regwatch.nlp.stems import AGGLUTINATIVE_MIN, agglutinative_stem, phrase_requirement
from regwatch.nlp.terms import TermMatcher, words_of
from regwatch.nlp.text import spaced


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("міндеттері", "міндет"),  # Kazakh: possessive, then plural
        ("маалыматтар", "маалымат"),  # Kyrgyz plural
        ("ma'lumotlar", "ma'lumot"),  # Uzbek Latin plural
        ("кишварҳои", "кишвар"),  # Tajik plural + izofat
        ("vazirlik", "vazirli"),  # -lik / -ligi alternate: both reduce to "vazirli…"
        ("санариптик", "санарипти"),
        ("кибербезопасность", "кибербезопасн"),  # Russian pymorphy3 does not know
        ("цифровизация", "цифровизац"),
    ],
)
def test_inflected_words_lose_their_endings(word: str, stem: str) -> None:
    assert agglutinative_stem(word) == stem


@pytest.mark.parametrize(
    "word",
    ["безопасность", "working", "framework", "sergek", "дипфейк", "regulations", "tarmoq"],
)
def test_russian_words_english_words_and_short_stems_stay(word: str) -> None:
    """A Russian word pymorphy3 knows is matched by lemma, English -ing/-k words and names
    keep their last letter, and no stem is shorter than AGGLUTINATIVE_MIN."""
    stem = agglutinative_stem(word)
    assert stem == word or (len(stem) >= AGGLUTINATIVE_MIN and word.startswith(stem))
    if word in ("безопасность", "working", "framework", "sergek", "дипфейк", "regulations"):
        assert stem == word


def _labels(matcher: TermMatcher, text: str) -> set[str]:
    via_words = {o.label for o in matcher.find(words_of(text))}
    via_scan = {o.label for o in matcher.find_spaced(spaced(text))}
    assert via_words == via_scan  # the fast path finds what the reference does
    return via_words


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("міндеттері", "Операторлардың міндетін заң белгілейді."),
        ("маалыматтар", "Маалыматты чет өлкөгө берүүгө тыюу салынат."),
        ("vazirligi", "Raqamli texnologiyalar vazirlikda yig'ilish bo'ldi."),
        ("кибербезопасность", "Закон о кибербезопасности принят."),
        ("цифровизация", "Стратегия цифровизацией не ограничивается."),
    ],
)
def test_a_term_written_inflected_matches_other_inflections(term: str, text: str) -> None:
    assert _labels(TermMatcher([("t", term)]), text) == {"t"}


def test_context_requirement_holds_the_stem() -> None:
    """The prefilter's context stems must let through every text the term matcher matches:
    the stem is among a context word's alternatives."""
    [(stems, _i)] = phrase_requirement("міндеттері")
    assert "міндет" in stems


def test_every_bundled_pattern_has_a_stem_for_the_prefilter() -> None:
    """A token pattern whose words the prefilter cannot reduce to a stem (a regex like
    "^(harmoni[sz]|…)") is matched in every unit of every document: six times slower."""
    from regwatch.nlp.rules import load_rules
    from regwatch.nlp.stems import pattern_requirement

    empty = [
        (rule.id, pattern)
        for rule in load_rules().rules
        for pattern in rule.patterns
        if not pattern_requirement(pattern)
    ]
    assert empty == []
