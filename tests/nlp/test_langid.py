from __future__ import annotations

import random

import pytest

from bench.corpus import generate
from regwatch.nlp import langid
from regwatch.nlp.evaluate import DEFAULT_SETS, load_examples
from regwatch.nlp.langid import detect


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The ministry published the draft law on artificial intelligence for comments.", "en"),
        ("Министерство опубликовало проект закона об искусственном интеллекте.", "ru"),
        ("Жасанды интеллект және цифрлық даму министрлігі заң жобасын әзірледі.", "kk"),
        ("Вазорат лоиҳаи қонунро дар бораи зеҳни сунъӣ барои муҳокима пешниҳод кард.", "tg"),
        ("Vazirlik sunʼiy intellekt toʻgʻrisidagi qonun loyihasini muhokamaga qoʻydi.", "uz"),
        ("Вазирлик сунъий интеллект тўғрисидаги қонун лойиҳасини муҳокамага қўйди.", "uz"),
        (
            "Жасалма интеллект боюнча мыйзам долбоору Жогорку Кеңеште каралды жана колдоого алынды.",
            "ky",
        ),
    ],
)
def test_detect(text: str, lang: str) -> None:
    assert detect(text) == lang


def test_short_or_empty_text_has_a_default() -> None:
    assert detect("") == "en"
    assert detect("Привет") == "ru"


def _detect_by_loops(text: str) -> str:
    """The plain way :func:`detect` was written (a Python loop over the characters, one over
    the words per language): the reference its byte counts and stopword filter must equal."""
    sample = text[:4000].lower()
    words = langid._WORD.findall(sample)
    cyr = sum(1 for ch in sample if "\u0400" <= ch <= "\u04ff")
    lat = sum(1 for ch in sample if "a" <= ch <= "z")
    if cyr > lat:
        return langid._cyrillic(sample, words)
    en = sum(1 for w in words if w in langid._STOP["en"])
    uz = sum(1 for w in words if w in langid._STOP["uz"]) + sample.count("oʻ") + sample.count("gʻ")
    uz += sample.count("o'") + sample.count("g'")
    return "uz" if uz > en else "en"


def test_detect_equals_the_plain_reference() -> None:
    """On every labelled set, the bench corpus and random strings of awkward characters
    (surrogates, letters whose lowercase is longer, Cyrillic at the range's ends, stopwords
    glued to digits and apostrophes), the fast counts give the plain loops' answer."""
    texts = [f"{e.title}\n{e.text}" for e in load_examples(DEFAULT_SETS)]
    texts += [f"{t}\n{x}" for _l, t, x in generate(0.3, seed=11)]
    rng = random.Random(5)
    pieces = ["va", "и", "the", "бу", "bo'yicha", "boʻyicha", "ҳамда", "және", "ki", "ў"]
    pieces += ["\u0400", "\u04ff", "\u0500", "\u03ff", "İ", "ẞ", "\ud800", "z", "a", "Z", "_"]
    pieces += ["9", "²", "½", "o'", "gʻ", "'", "ʼ", " ", "\n", "-", "қ", "ң", "ӣ", "\U0001f600"]
    pieces += ["\u00a0", "\u2028", "\x1c", "\u3000", "\t", "ﬁ", "\u0301", "ǅ", ",", "«"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 60))) for _ in range(5000)]
    texts += ["и " * 3000 + "the " * 10, "a" * 4001 + "и", "и" * 3999 + "ab"]
    seen = set()
    for text in texts:
        assert detect(text) == _detect_by_loops(text), repr(text[:80])
        seen.add(detect(text))
    assert seen == {"en", "ru", "kk", "ky", "tg", "uz"}
