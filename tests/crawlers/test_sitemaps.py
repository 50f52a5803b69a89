"""Sitemap reading, offline: what the sitemap spider gets from a sitemap's bytes."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from regwatch.crawlers.sitemaps import read_sitemap
from regwatch.errors import ExtractError, FeedError, FetchError

URLSET = (
    b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" '
    b'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">'
    b"<url><loc>https://gov.kz/a/1</loc><lastmod>2026-11-18</lastmod>"
    b"<image:image><image:loc>https://gov.kz/i.png</image:loc></image:image></url>"
    b"<url><loc>https://gov.kz/a/2</loc><news:news>"
    b"<news:publication_date>2026-11-17T08:00:00+05:00</news:publication_date></news:news></url>"
    b"<url><loc>ftp://gov.kz/a/3</loc></url><url><loc>https://gov.kz/a/4</loc></url>"
    b"</urlset>"
)


def test_a_url_set_gives_its_web_urls_and_dates_in_order() -> None:
    kind, entries = read_sitemap(URLSET, "https://gov.kz/sitemap.xml", 1 << 20)
    assert kind == "urlset"
    assert entries == [
        ("https://gov.kz/a/1", datetime(2026, 11, 18, tzinfo=UTC)),
        ("https://gov.kz/a/2", datetime(2026, 11, 17, 3, tzinfo=UTC)),
        ("https://gov.kz/a/4", None),
    ]  # an image's <loc> is not the entry's; ftp is dropped


def test_gzip_as_a_file_is_unpacked_under_the_cap() -> None:
    packed = gzip.compress(URLSET)
    assert read_sitemap(packed, "https://gov.kz/s.xml.gz", 1 << 20)[0] == "urlset"
    with pytest.raises(FetchError, match="cap"):
        read_sitemap(packed, "https://gov.kz/s.xml.gz", 100)
    with pytest.raises(FetchError, match="corrupt gzip"):
        read_sitemap(packed[:12] + b"\0" * 40, "https://gov.kz/s.xml.gz", 1 << 20)


def test_other_documents_are_named_or_refused() -> None:
    assert read_sitemap(b"<html><body/></html>", "u", 1 << 20) == ("html", [])
    with pytest.raises(ExtractError, match="empty body"):
        read_sitemap(b"", "u", 1 << 20)
    with pytest.raises(FeedError, match="entities"):
        read_sitemap(b'<!DOCTYPE u [<!ENTITY a "aa">]><urlset>&a;</urlset>', "u", 1 << 20)
