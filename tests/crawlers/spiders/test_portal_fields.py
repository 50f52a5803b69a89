"""The portal spiders' shared field helpers, on strings in the portals' languages."""

from __future__ import annotations

import re
from datetime import date

import pytest

from regwatch.crawlers.spiders.portal_fields import (
    day,
    days,
    kind_of,
    kk_or_ru,
    labelled_fields,
    link_rows,
    norm,
    read_status,
    rss_items,
    stage_of,
)
from regwatch.errors import ExtractError
from regwatch.instruments.vocabulary import KINDS, Stage


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("Публичное обсуждение до: 05.12.2026", date(2026, 12, 5)),
        ("20/11/2026 - 05/12/2026", date(2026, 11, 20)),
        ("updated 2026-12-05T10:00", date(2026, 12, 5)),
        ("Закон Республики Казахстан от 20 ноября 2026 года № 123-VIII", date(2026, 11, 20)),
        ("от 3 мая 2026 года", date(2026, 5, 3)),
        ("Қазақстан Республикасының 2026 жылғы 20 қарашадағы № 123-VIII Заңы", date(2026, 11, 20)),
        ("Тошкент ш., 2026 йил 20 ноябрь, ЎРҚ-1018-сон", date(2026, 11, 20)),
        ("Toshkent sh., 2026-yil 20-noyabr", date(2026, 11, 20)),
        ("31.02.2026", None),  # impossible: no date rather than a wrong one
        ("№ 123 от марта", None),
    ],
)
def test_day_reads_the_portals_date_formats(text: str, when: date | None) -> None:
    assert day(text) == when


def test_days_reads_a_period() -> None:
    assert days("с 15.11.2026 по 15.12.2026") == [date(2026, 11, 15), date(2026, 12, 15)]
    assert days("без срока") == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Проект Закона Республики Казахстан «О внесении изменений в Кодекс»", "law"),
        ("Проект Кодекса Республики Казахстан", "code"),
        ("Заң жобасы", "law"),
        ("Қаулы жобасы", "resolution"),
        ("Prezident qarori", "resolution"),
        ("O‘ZBEKISTON RESPUBLIKASI PREZIDENTINING FARMONI", "decree"),
        ("Мыйзам", "law"),
        ("Приказ Министра", "order"),
        ("Концепция развития искусственного интеллекта", "concept"),
        ("LAW OF THE REPUBLIC OF UZBEKISTAN", "law"),
        ("Информационное сообщение", None),
    ],
)
def test_kind_of_takes_the_earliest_kind_word(text: str, kind: str | None) -> None:
    assert kind_of(text) == kind
    assert kind is None or kind in KINDS


def test_a_status_through_a_table() -> None:
    table = {norm("Архив"): Stage.DISCUSSION_CLOSED, norm("Утратил силу"): None}
    assert (
        norm(" O‘z  kuchini yo’qotgan. ")
        == norm("O'z kuchini yo'qotgan")
        == "o z kuchini yo qotgan"
    )
    assert stage_of(table, "АРХИВ") is Stage.DISCUSSION_CLOSED
    assert stage_of(table, "Архив (2025)") is Stage.DISCUSSION_CLOSED
    assert stage_of(table, "Архивный") is None  # a prefix of a word is no match
    assert read_status(table, "Утратил силу", "p", "u", "m") == (None, ())  # known, no stage
    stage, warnings = read_status(table, "На доработке", "p.kz", "https://p.kz/1", "mod")
    assert stage is None
    assert warnings == (
        "p.kz: https://p.kz/1: status 'На доработке' maps to no stage; add it to STATUS_STAGES "
        "in crawlers/spiders/mod.py",
    )
    assert read_status(table, "", "p", "u", "m") == (None, ())


def test_labelled_fields_on_one_line_in_two_elements_and_in_a_definition_list() -> None:
    html = (
        "<p>Статус: На обсуждении</p><p><b>Разработчик:</b></p><p>Минюст</p>"
        "<dl><dt>Вид НПА</dt><dd>Закон</dd><dt>Срок</dt><dd></dd></dl>"
    )
    labels = {
        norm(k): v
        for k, v in {
            "Статус": "status",
            "Разработчик": "dev",
            "Вид НПА": "type",
            "Срок": "period",
        }.items()
    }
    assert labelled_fields(html, labels) == {
        "status": "На обсуждении",
        "dev": "Минюст",
        "type": "Закон",
    }


def test_link_rows_give_each_links_own_row() -> None:
    html = (
        "<nav><a href='/ru/projects/help'>?</a></nav><div>"
        "<div class='card'><a href='/ru/projects/1'>Один</a><span>Статус: А</span></div>"
        "<div class='card'><a href='/ru/projects/2'>Два</a><span>Статус: Б</span></div></div>"
    )
    rows = link_rows(html, "https://k.kg/ru", re.compile(r"^/ru/projects/\d+$"))
    assert [(u, t) for u, t, _ in rows] == [
        ("https://k.kg/ru/projects/1", "Один"),
        ("https://k.kg/ru/projects/2", "Два"),
    ]
    assert "Статус: А" in rows[0][2] and "Статус: Б" not in rows[0][2]


def test_rss_items_and_a_page_that_is_no_feed() -> None:
    body = b"<rss><channel><item><title> A  b </title><link>https://x/docs/1</link></item></channel></rss>"
    assert rss_items(body, "x", "https://x/rss") == [{"title": "A b", "link": "https://x/docs/1"}]
    with pytest.raises(ExtractError, match=r"x: https://x/rss is not an RSS index \(root <feed>\)"):
        rss_items(b"<feed/>", "x", "https://x/rss")
    with pytest.raises(ExtractError, match="not a readable RSS index"):
        rss_items(b"<html><body>502 Bad Gateway", "x", "https://x/rss")
    hostile = b"<!DOCTYPE rss [<!ENTITY a SYSTEM 'file:///etc/hostname'>]><rss><channel><item><title>&a;</title></item></channel></rss>"
    assert rss_items(hostile, "x", "https://x/rss") == [{"title": ""}]  # the entity is not read


def test_kazakh_or_russian_by_its_letters() -> None:
    assert kk_or_ru("Жасанды интеллект туралы заң жобасы") == "kk"
    assert kk_or_ru("Об искусственном интеллекте") == "ru"
