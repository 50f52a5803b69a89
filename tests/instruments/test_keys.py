"""Linking keys: numbers across scripts, subjects across languages and inflections."""

from __future__ import annotations

import pytest

from regwatch.instruments.keys import (
    amends,
    kind_of_number,
    nearest_subject,
    number_key,
    stems_key,
    title_keys,
)


def test_a_number_is_one_key_in_every_script() -> None:
    assert number_key("ЗРУ-1018") == number_key("ZRU-1018") == number_key("ЎРҚ–1018")
    assert number_key("O'RQ-1018") == number_key("O‘RQ-1018") == "zru-1018"
    assert number_key("№ 123-VII ЗРК") == number_key("No. 123-VII ZRK") == "123-vii-zrk"
    assert number_key("ПП-358") == number_key("PQ-358") == "pp-358"
    assert number_key("без номера") is None and number_key(None) is None
    assert kind_of_number("УП-6000") == "decree" and kind_of_number("ЗРУ-1018") == "law"
    assert kind_of_number("123") is None


@pytest.mark.parametrize(
    "text",
    [
        "законопроект об искусственном интеллекте",
        "проект закона «Об искусственном интеллекте»",
        "жасанды интеллект туралы заң жобасы",
        "sun'iy intellekt to'g'risidagi qonun loyihasi",
        "sunʼiy intellekt toʻgʻrisida",
        "сунъий интеллект тўғрисидаги қонун лойиҳаси",
        "жасалма интеллект жөнүндө мыйзам долбоору",
        "лоиҳаи қонун дар бораи зеҳни сунъӣ",
        "the draft law on artificial intelligence",
        "Kazakhstan's AI bill",
    ],
)
def test_artificial_intelligence_in_every_language(text: str) -> None:
    assert nearest_subject(text) == "ai"


def test_the_subject_nearest_the_instrument_wins() -> None:
    text = "проект закона о персональных данных, который упоминает искусственный интеллект"
    assert nearest_subject(text, text.find("закона") + 6) == "personal_data"
    assert nearest_subject("мы обсудили погоду") is None
    assert nearest_subject("ИИ-ассистент") == "ai" and nearest_subject("ии") is None


def test_title_keys() -> None:
    assert title_keys("law", "ai") == ("law|ai",)
    assert title_keys("law", "ai", amending=True) == ("law+amend|ai",)
    assert title_keys(None, "ai") == ()
    keys = title_keys("law", "ai", "Об искусственном интеллекте и цифровых платформах", "ru")
    assert keys == ("law|ai", "ru|law|интелл искусс платфо цифров")
    assert stems_key("О связи", "ru", "law") is None  # one word: too little to go on
    assert amends("о внесении изменений и дополнений") and not amends("об искусственном интеллекте")
