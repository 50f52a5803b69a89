"""Evidence on each signal: countries and bodies, and a draft's type, stage, number, date."""

from __future__ import annotations

import pytest

from regwatch.nlp import Flagger
from regwatch.nlp.attributes import instrument_details


def _one(flagger: Flagger, text: str, category: str) -> dict[str, object]:
    [m] = [m for m in flagger.flag("", text) if m.category == category]
    return {"countries": m.countries, "bodies": m.bodies, **m.attributes}


def test_draft_with_number_date_stage_and_body(flagger: Flagger) -> None:
    got = _one(
        flagger,
        "Мажилис одобрил в первом чтении законопроект № 123-VIII от 12 ноября "
        "2026 года об искусственном интеллекте.",
        "draft_instrument",
    )
    assert got == {
        "countries": ("kz",),
        "bodies": ("kz_mazhilis",),
        "instrument": "law",
        "stage": "passed_by_parliament",
        "number": "123-VIII",
        "date": "2026-11-12",
    }


@pytest.mark.parametrize(
    ("text", "instrument", "stage"),
    [
        (
            "The ministry published a draft decree on AI for public discussion.",
            "decree",
            "public_discussion",
        ),
        (
            "Проект постановления о цифровых платформах вынесен на общественное обсуждение.",
            "resolution",
            "public_discussion",
        ),
        ("Uzbekistan's draft AI strategy was presented on 18.11.2026.", "strategy", "draft"),
        (
            "Sunʼiy intellekt toʻgʻrisidagi qonun loyihasi muhokamaga qoʻyildi.",
            "law",
            "public_discussion",
        ),
    ],
)
def test_instrument_type_and_stage(
    flagger: Flagger, text: str, instrument: str, stage: str
) -> None:
    got = _one(flagger, text, "draft_instrument")
    assert (got["instrument"], got["stage"]) == (instrument, stage)


def test_signed_instrument_is_no_longer_a_strong_draft_signal(flagger: Flagger) -> None:
    everything = Flagger(flagger.rules, nlp=flagger.nlp, min_score=0.0)
    [m] = [
        m
        for m in everything.flag("", "The president signed the AI bill into law on Monday.")
        if m.category == "draft_instrument"
    ]
    assert m.attributes["stage"] == "signed" and m.score < 0.5


def test_countries_from_the_sentence_in_any_language(flagger: Flagger) -> None:
    text = (
        "Қазақстанның Жасанды интеллект және цифрлық даму министрлігі "
        "Oʻzbekiston bilan birga ortaq стандарттар әзірлейді."
    )
    found = flagger.flag("", text)
    assert found
    assert {"kz", "uz"} <= set(found[0].countries)


@pytest.mark.parametrize(
    ("sentence", "number", "date"),
    [
        ("Указ № УП-158 от 3 марта 2026 года", "УП-158", "2026-03-03"),
        ("Resolution No. 45 of November 5, 2026", "45", "2026-11-05"),
        ("Qaror PQ-312, 01.12.2026", "PQ-312", "2026-12-01"),
        ("draft without any number", None, None),
    ],
)
def test_number_and_date(sentence: str, number: str | None, date: str | None) -> None:
    got = instrument_details("decree", "draft", sentence)
    assert got.get("number") == number and got.get("date") == date
