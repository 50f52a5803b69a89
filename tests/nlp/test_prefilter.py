"""The prefilter only skips text that cannot match: its output equals a full pass."""

from __future__ import annotations

from pathlib import Path

from bench.corpus import generate
from demo.corpus import load_corpus
from nlp import Flagger
from nlp.evaluate import DEFAULT_SET, load_examples
from nlp.triggers import fold, phrase_requirement, spaced, split_units

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
