"""Pure reading of a sitemap from saved bytes: sitemap indexes, url sets and Google News
sitemaps, gzipped as a file or not. What to follow, how recent and how deep is the sitemap
spider's business (``crawlers/spiders/generic.py``); nothing here touches the network.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from lxml import etree

from regwatch.crawlers.extract import parse_date
from regwatch.crawlers.feeds import check_xml_safety
from regwatch.errors import ExtractError, FetchError

__all__ = ["Entry", "read_sitemap"]

Entry = tuple[str, datetime | None]  # an http(s) URL and its lastmod / publication date

_NS_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, recover=True, huge_tree=False, remove_comments=True
)


def read_sitemap(body: bytes, url: str, max_bytes: int) -> tuple[str, list[Entry]]:
    """The document's root element name (``sitemapindex``, ``urlset``, or whatever else it
    is) and its entries in document order. A gzipped body is unpacked up to ``max_bytes``;
    entity tricks raise FeedError (``check_xml_safety``), broken gzip FetchError, no XML
    ExtractError."""
    root = _root(body, url, max_bytes)
    return etree.QName(root).localname, _entries(root)


def _root(body: bytes, url: str, cap: int) -> Any:
    if body[:2] == b"\x1f\x8b":  # sitemap.xml.gz served as a file, not Content-Encoding
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, cap + 1)
        except zlib.error as exc:
            raise FetchError(f"sitemap: {url} is corrupt gzip ({exc})") from None
        if len(body) > cap:
            raise FetchError(f"sitemap: {url} unpacks past the {cap}-byte cap")
    if not body.strip():
        raise ExtractError(f"sitemap: {url} answered with an empty body; check the URL")
    check_xml_safety(body, url)
    try:
        root = etree.fromstring(body, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ExtractError(f"sitemap: {url} is not XML ({exc})") from None
    if root is None:
        raise ExtractError(f"sitemap: {url} is empty or not XML")
    return root


def _entries(root: Any) -> list[Entry]:
    out: list[Entry] = []
    for entry in root:
        if not isinstance(entry.tag, str):
            continue
        loc = when = None
        for child in entry.iter():
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            text = (child.text or "").strip()
            if name == "loc" and child.getparent() is entry:
                loc = text
            elif name == "lastmod" or (
                name == "publication_date" and etree.QName(child).namespace == _NS_NEWS
            ):
                when = parse_date(text) or when
        if loc and loc.startswith(("http://", "https://")):
            out.append((loc, when))
    return out
