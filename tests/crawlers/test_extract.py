from __future__ import annotations

import pytest

from regwatch.crawlers.extract import (
    article_from_page,
    decode_html,
    html_to_text,
    links_from_listing,
    parse_date,
)
from regwatch.errors import ExtractError

PAGE = """<!DOCTYPE html><html lang="ru"><head><meta charset="{charset}">
<title>Портал</title></head><body>
<nav><a href="/">Главная</a></nav>
<h1 class="doc-title">Проект постановления «О цифровых платформах»</h1>
<time class="published" datetime="2026-11-18T09:00:00+05:00">18.11.2026</time>
<div class="doc-body"><p>Разработчик: Министерство.</p><script>var x=1;</script>
<p>Обсуждение до <b>30.11.2026</b>.</p></div>
<footer>© 2026</footer></body></html>"""


def test_article_fields_from_selectors() -> None:
    art = article_from_page(
        PAGE.format(charset="utf-8"),
        "https://p.uz/d/1",
        title_selector="h1.doc-title",
        text_selector="div.doc-body",
        date_selector="time.published",
    )
    assert art.title == "Проект постановления «О цифровых платформах»"
    assert art.text == "Разработчик: Министерство.\nОбсуждение до 30.11.2026."
    assert art.published is not None and art.published.isoformat() == "2026-11-18T04:00:00+00:00"
    assert art.lang == "ru"


@pytest.mark.parametrize("charset", ["windows-1251", "koi8-r"])
def test_legacy_cyrillic_charsets_from_meta(charset: str) -> None:
    body = (
        PAGE.format(charset=charset)
        .replace("«", '"')
        .replace("»", '"')
        .replace("©", "(c)")
        .encode(charset)
    )
    html = decode_html(body)
    assert "Проект постановления" in html


def test_header_charset_wins() -> None:
    body = "<p>Законопроект</p>".encode("koi8-r")
    assert "Законопроект" in decode_html(body, "koi8-r")


def test_missing_body_names_the_selector() -> None:
    with pytest.raises(ExtractError, match="text_selector"):
        article_from_page("<html><h1>x</h1></html>", "https://x/1", text_selector="div.nope")


def test_links_from_listing_are_absolute_unique_and_web_only() -> None:
    html = """<ul><li><a class="n" href="/a/1.html">1</a></li><li><a class="n" href="2.html#c">2</a>
    </li><li><a class="n" href="/a/1.html">dup</a></li><li><a class="n" href="javascript:x()">j</a>
    </li><li><a href="/other">o</a></li></ul>"""
    assert links_from_listing(html, "https://s.kz/a/list", "a.n") == [
        "https://s.kz/a/1.html",
        "https://s.kz/a/2.html",
    ]


def test_bad_selector_is_an_extract_error() -> None:
    with pytest.raises(ExtractError, match="bad link_selector"):
        links_from_listing("<a href='x'>", "https://s/", "a[[")


def test_html_to_text_keeps_blocks_and_drops_scripts() -> None:
    assert (
        html_to_text("<p>One <i>two</i></p><style>p{}</style><div>three</div>tail")
        == "One two\nthree\ntail"
    )


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2026-11-18", "2026-11-18T00:00:00+00:00"),
        ("2026-11-18T10:00:00Z", "2026-11-18T10:00:00+00:00"),
        ("18.11.2026", "2026-11-18T00:00:00+00:00"),
        ("опубликовано 18/11/2026", "2026-11-18T00:00:00+00:00"),
    ],
)
def test_parse_date(raw: str, iso: str) -> None:
    dt = parse_date(raw)
    assert dt is not None and dt.isoformat() == iso


def test_parse_date_gives_none_for_garbage() -> None:
    assert parse_date("вчера") is None and parse_date("31.02.2026") is None
