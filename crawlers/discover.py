"""Find what to configure for a URL an admin gives: the URL itself when it is a feed or a
sitemap, else the feeds an HTML page announces with ``<link rel="alternate">``, else a sitemap
the site's robots.txt lists.

Every request goes through the one Fetcher; nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

from regwatch.crawlers.extract import decode_html
from regwatch.crawlers.feeds import FeedResult, parse_feed
from regwatch.crawlers.fetch import Fetcher, Response
from regwatch.errors import FeedError, FetchError

__all__ = ["Discovery", "discover", "feed_links"]

_FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
    "application/json",
    "application/xml",
    "text/xml",
}
MAX_CANDIDATES = 5


@dataclass(frozen=True)
class Discovery:
    url: str  # what the source's url should be
    type: Literal["rss", "sitemap"]
    feed: FeedResult | None = None  # the parsed feed (rss)
    page_lang: str | None = None  # <html lang> of the page the feed was found on
    others: list[str] = field(default_factory=list)  # more feeds the page announces


def feed_links(html: str, base_url: str) -> list[str]:
    """Absolute http(s) URLs of the page's ``<link rel="alternate">`` feeds, in page order."""
    out: dict[str, None] = {}
    for link in Selector(text=html).css("link[href]"):
        rel = (link.attrib.get("rel") or "").lower().split()
        kind = (link.attrib.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rel and kind in _FEED_TYPES:
            url = urljoin(base_url, link.attrib["href"].strip())
            if urlsplit(url).scheme in ("http", "https"):
                out.setdefault(url, None)
    return list(out)


def _sitemap_root(body: bytes) -> str | None:
    head = body[:4096].lstrip()
    if not head.startswith(b"<"):
        return None
    for name in ("urlset", "sitemapindex"):
        if f"<{name}".encode() in head:
            return name
    try:
        root = etree.fromstring(
            body, parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError:
        return None
    name = etree.QName(root).localname
    return name if name in ("urlset", "sitemapindex") else None


def _robots_sitemap(page_url: str, fetcher: Fetcher) -> str | None:
    """The first ``Sitemap:`` of the site's robots.txt that really is a sitemap, if any."""
    parts = urlsplit(page_url)
    try:
        robots = fetcher.get(f"{parts.scheme}://{parts.netloc}/robots.txt")
    except FetchError:
        return None
    lines = robots.body.decode("utf-8", "replace").splitlines()
    listed = [ln.split(":", 1)[1].strip() for ln in lines if ln.lower().startswith("sitemap:")]
    for url in listed[:MAX_CANDIDATES]:
        if urlsplit(url).scheme not in ("http", "https"):
            continue
        try:
            if _sitemap_root(fetcher.get(url).body):
                return url
        except FetchError:
            continue
    return None


def _as_feed(resp: Response) -> FeedResult:
    return parse_feed(resp.body, resp.url, "preview", resp.headers.get("content-type", ""))


def discover(url: str, fetcher: Fetcher) -> Discovery:
    """What ``url`` is: a feed, a sitemap, or a page announcing feeds (the first readable one
    wins). FetchError/FeedError with the reason and the fix otherwise."""
    resp = fetcher.get(url)
    if _sitemap_root(resp.body):
        return Discovery(url=resp.url, type="sitemap")
    try:
        return Discovery(url=resp.url, type="rss", feed=_as_feed(resp))
    except FeedError as exc:
        if "HTML" not in str(exc) and "html" not in resp.content_type:
            raise
    html = decode_html(resp.body, resp.charset)
    candidates = feed_links(html, resp.url)
    lang = (Selector(text=html).xpath("/html/@lang").get() or "").split("-")[0].lower() or None
    errors: list[str] = []
    for i, candidate in enumerate(candidates[:MAX_CANDIDATES]):
        try:
            feed = _as_feed(fetcher.get(candidate))
        except (FetchError, FeedError) as exc:
            errors.append(str(exc))
            continue
        return Discovery(
            url=candidate, type="rss", feed=feed, page_lang=lang, others=candidates[i + 1 :]
        )
    sitemap = _robots_sitemap(resp.url, fetcher)
    if sitemap is not None:  # no feed, but the site lists a sitemap in its robots.txt
        return Discovery(url=sitemap, type="sitemap", page_lang=lang)
    tried = f" ({len(candidates)} announced, none readable: {errors[0]})" if errors else ""
    raise FeedError(
        f"sources: {url} is an HTML page without a readable feed{tried}; add it by hand as "
        'type = "html" with a link_selector, or as type = "sitemap" with its sitemap URL'
    )
