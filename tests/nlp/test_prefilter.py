"""The prefilter only skips text that cannot match: its output equals a full pass."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from bench.corpus import generate
from regwatch.demo.corpus import load_corpus
from regwatch.nlp import Flagger, load_rules
from regwatch.nlp.components import lemma_of
from regwatch.nlp.evaluate import DEFAULT_SET, load_examples
from regwatch.nlp.stems import pattern_requirement, phrase_requirement, word_stems
from regwatch.nlp.terms import words_of
from regwatch.nlp.text import field_units, fold, spaced, split_units

HELDOUT = Path(__file__).parent / "data" / "heldout"


def test_prefiltered_output_equals_a_full_pass(flagger: Flagger) -> None:
    texts: list[tuple[str, str, str | None]] = [
        (e.title, e.text, None) for e in load_examples([DEFAULT_SET, HELDOUT])
    ]
    texts += [(d.title, d.text, None) for d in load_corpus()]
    texts += [(t, x, lang) for lang, t, x in generate(0.3, seed=11)]
    differing = [
        (title[:40], text[:60])
        for title, text, lang in texts
        if flagger.flag(title, text, lang) != flagger.flag(title, text, lang, prefilter=False)
    ]
    assert len(texts) > 500
    assert differing == []


def test_every_form_starts_with_one_of_its_stems() -> None:
    """Soundness of the stems for key Russian words: every form of the lexeme, superlatives
    ("наивысший") and prefixed comparatives ("поцифровее") included."""
    import pymorphy3

    morph = pymorphy3.MorphAnalyzer(lang="ru")
    for phrase in (
        "цифровая безопасность",
        "законопроект",
        "проект постановления",
        "центр искусственного интеллекта",
        "высокий риск",
        "распознавание лица",
    ):
        for word, (stems, _i) in zip(phrase.split(), phrase_requirement(phrase), strict=True):
            for form in morph.parse(word)[0].lexeme:
                assert any(fold(form.word).startswith(s) for s in stems), (form.word, stems)


def test_every_form_of_every_rule_word_starts_with_one_of_its_stems(flagger: Flagger) -> None:
    """The same, for every Russian word of every phrase, term, exclusion and gazetteer name:
    each form of each lexeme whose normal form is the word's lemma (reached from the word or
    from its lemma) starts with a stem. A common prefix of none or one letter used to stand
    in for suppletive lexemes («её» of «она»), and the prefilter lost «на её территории»."""
    import pymorphy3

    morph = pymorphy3.MorphAnalyzer(lang="ru")
    rules = flagger.rules
    texts = [p for r in rules.rules for p in (*r.phrases, *r.exclude)]
    texts += [t for terms in rules.terms.values() for t in terms]
    texts += [n for names in rules.countries.values() for n in names]
    texts += [n for b in rules.bodies for n in b.names]
    texts += [t for st in rules.stages for t in st.terms]
    words = {w for t in texts for *_x, w in words_of(t) if re.fullmatch("[а-яё]+", w)}
    assert len(words) > 300
    for word in sorted(words):
        stems, lemma = word_stems(word), lemma_of(word)
        for source in (word, lemma):
            for parse in morph.parse(source):
                if fold(parse.normal_form) != lemma:
                    continue
                for form in parse.lexeme:
                    assert any(fold(form.word).startswith(s) for s in stems), (word, form.word)


def _spaced_by_table(text: str) -> str:
    """The first implementation of :func:`spaced` (a translation table over the BMP), kept as
    the reference for the faster one."""
    table = {cp: " " for cp in range(0x10000) if not chr(cp).isalnum()}
    table.update({ord(c): "'" for c in "'ʻʼ’‘`´"})
    table[ord("ё")] = "е"
    low = text.lower()
    if len(low) != len(text):
        low = "".join(c.lower()[:1] or c for c in text)
    low = low.translate(table)
    if re.search("[\U00010000-\U0010ffff]", low):
        low = re.sub("(?![\\w])[\U00010000-\U0010ffff]", " ", low)
    return re.sub(r"(?<![^\W_])'", " ", low) if "'" in low else low


def test_spaced_equals_the_table_reference() -> None:
    every = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    texts = ["".join(every[i : i + 4000]) for i in range(0, len(every), 4000)]
    rng = random.Random(3)
    alphabet = "aZ9_ 'ʻʼ’‘`´ёЁİßﬁ\u0301\u00a0\n\t-.«»—ǅ\U0001f600\U000e0067\ud800"
    texts += ["".join(rng.choices(alphabet, k=rng.randint(0, 30))) for _ in range(5000)]
    texts += [x for _l, t, x in generate(0.2, seed=5)]
    for text in texts:
        assert spaced(text) == _spaced_by_table(text), repr(text[:80])


@pytest.mark.parametrize("source", ["labelled", "bench", "random", "inflected"])
def test_term_matching_on_spaced_text_equals_word_by_word(flagger: Flagger, source: str) -> None:
    """Context, exclusions, the gazetteer and stages are looked up only at the words an
    Aho-Corasick scan of their first words' stems finds; looking up every word of the spaced
    text, and the regex word-by-word reference, give the same occurrences."""
    if source == "inflected":
        texts = [text for _title, text in _mixed_texts(flagger, 1500, seed=17)]
    elif source == "labelled":
        texts = [t for e in load_examples([DEFAULT_SET]) for t in (e.title, e.text)]
    elif source == "bench":
        texts = [x for _l, _t, x in generate(0.3, seed=13)]
    else:
        rng = random.Random(7)
        words = ["ИИ", "ии", "данных", "data", "AI", "law", "закон", "Душанбе", "Tajikistan’s"]
        words += ["o‘zbek", "_", "-", ".", ",", "«", "»", "\n", "'", "''", "\u0301", "İ"]
        words += ["\U0001f600", "платформаларды", "a" * 70]
        texts = [
            "".join(rng.choice(words) + rng.choice(" -'\n,") for _ in range(rng.randint(0, 25)))
            for _ in range(3000)
        ]

    def key(o: object) -> tuple[int, int, str]:
        return (o.start, o.end, o.label)  # type: ignore[attr-defined]

    found = 0
    for text in texts:
        fast = flagger._terms.find_spaced(spaced(text))
        assert fast == flagger._terms.find_every_word(spaced(text)), repr(text[:80])
        assert sorted(fast, key=key) == sorted(flagger._terms.find(words_of(text)), key=key), repr(
            text[:80]
        )
        found += len(fast)
    assert found > len(texts) // 2  # occurrences to compare


def test_fold_and_spaced_keep_offsets() -> None:
    text = "İstanbul «ЁЛКА» sunʼiy-intellekt"
    assert len(fold(text)) == len(spaced(text)) == len(text)
    assert spaced(text) == "istanbul  елка  sun'iy intellekt"


def test_units_cover_long_paragraphs_without_crossing_lines() -> None:
    text = "a" * 10 + "\n\n" + ("Sentence. " * 5000)
    units = split_units(text, max_len=1000)
    assert units[0] == (0, 10)
    assert all(e - s <= 1000 for s, e in units)
    assert units[1][0] == 12 and units[-1][1] == len(text)
    assert all(units[i][1] <= units[i + 1][0] for i in range(len(units) - 1))


def test_units_run_on_over_hard_wrapped_lines() -> None:
    text = "The draft law on\nartificial intelligence.\nIt passed\n\nnext paragraph\nAnd\n– list"
    assert [text[a:b] for a, b in split_units(text)] == [
        "The draft law on\nartificial intelligence.",  # lower case after no full stop: runs on
        "It passed",  # an empty line ends a paragraph
        "next paragraph",  # upper case next: a new line
        "And",
        "– list",
    ]
    # a title never runs on into its text
    assert field_units(["A title without a stop", "and its text"]) == [(0, 22), (23, 35)]


def _mixed_texts(flagger: Flagger, n: int, seed: int) -> list[tuple[str, str]]:
    """Rule phrases, context terms and gazetteer names, their Russian words in random forms
    (and cases), run together with filler words and odd separators — the texts most likely to
    put a stem, a guard or a region in the wrong place."""
    import pymorphy3

    morph = pymorphy3.MorphAnalyzer(lang="ru")
    rng = random.Random(seed)
    rules = flagger.rules
    phrases = [p for r in rules.rules for p in (*r.phrases, *r.exclude)]
    phrases += [t for terms in rules.terms.values() for t in terms]
    phrases += [n for names in rules.countries.values() for n in names]
    phrases += [t for st in rules.stages for t in st.terms]
    filler = "the a of law on data high risk AI ИИ и в на о её их для закон центр совет".split()  # noqa: SIM905
    seps = [" ", " ", ", ", " - ", "-", " «", "» ", "\n", ". ", "! ", " ’", "' ", "/", ": "]

    def inflect(word: str) -> str:
        parses = morph.parse(word.lower()) if re.fullmatch("[А-Яа-яЁё]+", word) else []
        if parses and rng.random() < 0.7:
            return str(rng.choice(rng.choice(parses).lexeme).word)
        return word

    texts = []
    for _ in range(n):
        parts = []
        for _k in range(rng.randint(2, 10)):
            source = rng.choice(phrases) if rng.random() < 0.5 else rng.choice(filler)
            words = " ".join(inflect(w) for w in source.split())
            parts += [words.upper() if rng.random() < 0.15 else words, rng.choice(seps)]
        texts.append(("" if rng.random() < 0.7 else rng.choice(phrases), "".join(parts)))
    return texts


def test_prefiltered_output_equals_a_full_pass_on_mixed_texts(flagger: Flagger) -> None:
    texts = _mixed_texts(flagger, 800, seed=11)
    differing = [
        text[:80]
        for title, text in texts
        if flagger.flag(title, text) != flagger.flag(title, text, prefilter=False)
    ]
    assert sum(bool(flagger.flag(t, x)) for t, x in texts) > 200  # signals to compare
    assert differing == []


def _full_pass_differs(flagger: Flagger, title: str, text: str) -> bool:
    return flagger.flag(title, text) != flagger.flag(title, text, prefilter=False)


def test_context_elsewhere_in_the_document(flagger: Flagger) -> None:
    """The prefilter sends only the trigger's paragraph to spaCy; context in another paragraph
    (or in the title) still counts, found by the term scan of the whole document."""
    weather = "The weather in Astana was sunny on Tuesday."
    cases = [
        (
            "",
            f"{weather}\nThe draft law was published for comment.\nIt covers artificial "
            "intelligence systems.",
        ),
        ("Artificial intelligence", f"{weather}\nThe draft law was published for comment."),
        (
            "",
            "Искусственный интеллект обсуждали весь день.\n" + weather * 3 + "\n"
            "Опубликован законопроект для обсуждения.",
        ),
    ]
    for title, text in cases:
        matches = flagger.flag(title, text)
        assert not _full_pass_differs(flagger, title, text)
        [draft] = [m for m in matches if m.category == "draft_instrument"]
        assert "in the document" in draft.reason, draft.reason
    # and none when the context is nowhere
    assert [
        m for m in flagger.flag("", f"{weather}\nThe draft law was published.") if m.score >= 0.5
    ] == []


def test_triggers_split_by_sentence_or_unit_boundaries(flagger: Flagger) -> None:
    """A phrase's words on both sides of a sentence end, a paragraph break or a field boundary
    is not a match in a full pass, nor in the prefiltered one; a sentence of its own is, and so
    is a sentence hard-wrapped over two lines."""
    ai = "Artificial intelligence rules were on the agenda."
    for title, text in [
        ("", f"{ai} They discussed the draft. Law students came too."),
        ("", f"{ai} They discussed the draft\nLaw students came too."),
        ("", f"{ai} They discussed the draft.\nlaw students came too."),
        ("Parliament reviews a draft", f"law students met. {ai}"),
        ("", f"{ai} Обсуждали цифровую. Безопасность аэропорта обеспечена."),
        ("", f"{ai} Обсуждали цифровую\n\nбезопасность аэропорта."),
    ]:
        assert not _full_pass_differs(flagger, title, text), (title, text)
        assert [
            m
            for m in flagger.flag(title, text)
            if m.category in ("draft_instrument", "digital_security")
        ] == []
    text = f"{ai} They discussed the draft law. It was long."
    [draft] = [m for m in flagger.flag("", text) if m.category == "draft_instrument"]
    assert draft.sentence == "They discussed the draft law."
    assert not _full_pass_differs(flagger, "", text)
    # a hard-wrapped line: the break is a space, the sentence runs on over it
    text = f"{ai} They discussed the draft\nlaw on data. It was long."
    [draft] = [m for m in flagger.flag("", text) if m.category == "draft_instrument"]
    assert draft.text == "draft\nlaw" and draft.sentence == "They discussed the draft\nlaw on data."
    assert not _full_pass_differs(flagger, "", text)
    # a title of several lines: its units and offsets are the title's own
    title = "Weather\nParliament reviews a draft law on AI\n\nand data"
    [draft] = [m for m in flagger.flag(title, ai) if m.category == "draft_instrument"]
    assert (draft.field, title[draft.start : draft.end]) == ("title", "draft law")
    assert not _full_pass_differs(flagger, title, ai)


def test_hostile_long_paragraphs(flagger: Flagger) -> None:
    """Paragraphs past the unit size (cut at sentence ends or spaces), triggers right at the
    cuts, context tens of thousands of characters away, odd separators and repeated anchors
    without their second word: the prefiltered output equals a full pass."""
    rng = random.Random(5)
    pieces = [
        "Погода в Астане солнечная, ветер слабый.",
        "The draft",
        "law",
        "проект",
        "закона",
        "цифровой безопасности",
        "искусственный интеллект",
        "artificial intelligence",
        "high-risk AI",
        "data centre",
        "Безопасный город",
        "«законопроект»",
        "x" * 300,
        "\u00a0",
        "—",
        "...",
        "!?",
        "\t",
        "ИИ",
        "facial recognition",
        "Душанбе",
    ]
    texts = []
    for _ in range(12):
        words: list[str] = []
        while sum(len(w) for w in words) < rng.choice((25_000, 45_000)):
            words.append(rng.choice(pieces))
            words.append(rng.choice([" ", " ", ". ", ", ", " - "]))
        texts.append("".join(words))
    texts.append("Погода солнечная. " * 1200 + "законопроект " + "ветер слабый " * 1500 + "об ИИ")
    found = 0
    for text in texts:
        assert not _full_pass_differs(flagger, "", text)
        found += len(flagger.flag("", text))
    assert found > 50


def test_any_other_pipeline_runs_whole_on_each_unit(flagger: Flagger) -> None:
    """A pipeline other than build_nlp()'s (here its components in another order) runs whole
    on every unit the prefilter keeps: the same signals as the default flagger."""
    import spacy

    import regwatch.nlp.components  # noqa: F401  (registers the lemmatizer)

    other = spacy.blank("xx")
    other.add_pipe("regwatch_lemmatizer")
    other.add_pipe("sentencizer")
    reordered = Flagger(flagger.rules, nlp=other, min_score=flagger.min_score, model=flagger.model)
    assert reordered._matcher._parts is None and flagger._matcher._parts is not None
    texts = [(e.title, e.text) for e in load_examples([DEFAULT_SET])]
    assert sum(len(flagger.flag(t, x)) for t, x in texts) > 200
    assert [reordered.flag(t, x) for t, x in texts] == [flagger.flag(t, x) for t, x in texts]


def test_every_bundled_pattern_is_indexed() -> None:
    """A token pattern with no literal the prefilter can index (a regex such as "^(sites?)$",
    with "?" or "$" inside its group) would send every unit of a document to spaCy."""
    bare = [
        (rule.id, i)
        for rule in load_rules().rules
        for i, pattern in enumerate(rule.patterns)
        if not pattern_requirement(pattern)
    ]
    assert not bare, bare
