from __future__ import annotations

import pytest

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
