"""Publication dates on every path (feeds of each format, HTML pages, sitemaps, imports): epoch
zero and days that do not exist are unknown, a date far ahead is clamped to when the item was
seen, and none of them costs the item."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from regwatch.crawlers import Document
from regwatch.crawlers.document import FUTURE_SKEW
from regwatch.crawlers.extract import article_from_page, parse_date
from regwatch.crawlers.feeds import parse_feed
from regwatch.crawlers.imports import read_documents
from regwatch.crawlers.sitemaps import read_sitemap
from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store.analyst import SignalFilter
from regwatch.store.facets import signal_page
from regwatch.store.sources import SourceSpec, sync_sources
from tests.conftest import ingest_one

EPOCH_RFC = "Thu, 01 Jan 1970 00:00:00 GMT"
NO_SUCH_DAY_RFC = "Sat, 29 Feb 2025 10:00:00 GMT"
NO_SUCH_DAY_ISO = "2025-02-29T10:00:00Z"
FUTURE_ISO = "2099-01-01T00:00:00Z"


def _rss(date: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
        f"<title>Item</title><link>https://gov.example/1</link><pubDate>{date}</pubDate>"
        "<description>text</description></item></channel></rss>"
    ).encode()


def _atom(date: str) -> bytes:
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        f'<entry><id>tag:x,2026:1</id><title>Item</title><link href="https://gov.example/1"/>'
        f"<updated>{date}</updated><content>text</content></entry></feed>"
    ).encode()


def _json(date: str) -> bytes:
    item = {"id": "1", "url": "https://gov.example/1", "title": "Item", "date_published": date}
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [item]}).encode()


EPOCH_ISO = "1970-01-01T00:00:00Z"
CANNOT_BE_TRUE = [
    (_rss, EPOCH_RFC),
    (_rss, NO_SUCH_DAY_RFC),
    (_rss, NO_SUCH_DAY_ISO),  # feedparser moves this one to 1 March
    (_atom, EPOCH_ISO),
    (_atom, NO_SUCH_DAY_ISO),
    (_json, EPOCH_ISO),
    (_json, NO_SUCH_DAY_ISO),
]
FAR_AHEAD = [(_rss, "Thu, 01 Jan 2099 00:00:00 GMT"), (_atom, FUTURE_ISO), (_json, FUTURE_ISO)]


@pytest.mark.parametrize(("make", "date"), CANNOT_BE_TRUE)
def test_feed_dates_that_cannot_be_true_are_unknown_and_keep_the_item(
    make: Callable[[str], bytes], date: str
) -> None:
    [doc] = parse_feed(make(date), "https://gov.example/feed", "s").documents
    assert doc.published is None


@pytest.mark.parametrize(("make", "date"), FAR_AHEAD)
def test_feed_dates_far_ahead_are_clamped_to_when_the_item_was_seen(
    make: Callable[[str], bytes], date: str
) -> None:
    [doc] = parse_feed(make(date), "https://gov.example/feed", "s").documents
    assert doc.published == doc.fetched_at


def test_a_date_a_little_ahead_is_kept_as_written() -> None:
    seen = datetime(2026, 11, 18, 12, tzinfo=UTC)
    ahead = seen + FUTURE_SKEW - timedelta(hours=1)  # a publisher's clock in UTC+14
    doc = Document("https://gov.example/1", "t", "x", "s", published=ahead, fetched_at=seen)
    assert doc.published == ahead


def test_a_page_date_that_does_not_exist_is_unknown() -> None:
    html = (
        '<html><body><h1 class="t">Title</h1><time class="d" datetime="2025-02-29">29.02.2025'
        '</time><div class="b">Body text.</div></body></html>'
    )
    page = article_from_page(
        html,
        "https://gov.example/1",
        title_selector="h1.t",
        text_selector="div.b",
        date_selector="time.d",
    )
    assert page.title == "Title" and page.published is None
    assert parse_date("29.02.2025") is None and parse_date("31.04.2026") is None
    assert parse_date("28.02.2025") == datetime(2025, 2, 28, tzinfo=UTC)


def test_sitemap_dates_that_do_not_exist_or_are_epoch_zero_are_unknown() -> None:
    body = (
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://gov.example/a</loc><lastmod>2025-02-29</lastmod></url>"
        b"<url><loc>https://gov.example/b</loc><lastmod>1970-01-01T00:00:00Z</lastmod></url>"
        b"</urlset>"
    )
    _, entries = read_sitemap(body, "https://gov.example/sitemap.xml", 1 << 20)
    assert entries[0] == ("https://gov.example/a", None)
    # The spider hands the sitemap's date to the Document, which keeps no epoch-zero date.
    url, when = entries[1]
    assert Document(url, "t", "x", "s", published=when).published is None


def test_imports_keep_items_whose_dates_cannot_be_true() -> None:
    lines = [
        json.dumps({"url": f"https://gov.example/{i}", "title": "t", "text": "x", "published": d})
        for i, d in enumerate(["2025-02-29", "1970-01-01T00:00:00Z", FUTURE_ISO])
    ]
    items = [item for _, item in read_documents(lines)]
    assert all(not isinstance(i, str) for i in items), items
    published = [i.document.published for i in items if not isinstance(i, str)]
    docs = [i.document for i in items if not isinstance(i, str)]
    assert published[:2] == [None, None] and published[2] == docs[2].fetched_at
    assert [
        n
        for n, item in read_documents(
            ['{"url": "https://x.example/", "title": "t", "text": "x", "published": "yesterday"}']
        )
        if isinstance(item, str)
    ] == [1]


def test_an_unknown_date_sorts_by_when_it_was_first_seen(engine: Engine, flagger: Flagger) -> None:
    with db.session_scope(engine) as s:
        sync_sources(s, [SourceSpec("s", "https://gov.example/rss", "rss", "kz", ("ru",), "news")])
    text = "Министерство опубликовало законопроект о цифровой безопасности."
    dated, undated = (
        Document(f"https://gov.example/{n}", title, f"{text} {n}.", "s", published=when)
        for n, title, when in (
            ("old", "Старый", datetime(2026, 1, 5, tzinfo=UTC)),
            ("new", "Новый", datetime(1970, 1, 1, tzinfo=UTC)),
        )
    )
    for doc in (dated, undated):
        assert ingest_one(engine, flagger, doc).signals_new
    with db.session_scope(engine) as s:
        titles = [r["title"] for r in signal_page(s, SignalFilter(), "published", 0, 100)]
    # Unknown (first seen today) comes before a January date, not after every dated one.
    assert titles.index("Новый") < titles.index("Старый")
