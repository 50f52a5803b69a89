"""The generic spiders, driven by a source's configuration: ``html`` (listing page(s) → article
links by CSS, allow/deny URL patterns, optional pagination) and ``sitemap`` (sitemap indexes,
url sets, Google News sitemaps, gzipped or not — read by ``crawlers/sitemaps.py``; newest
entries first).

Both turn article pages — by selectors, else automatic main-text extraction — and the PDF/DOCX
files linked from them into the same :class:`~regwatch.crawlers.document.Document` the feeds
produce.
Every request goes through the one Fetcher (see ``crawlers/crawl.py``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, Self, final

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from regwatch.crawlers.attachments import attachment_kind, attachment_links, attachment_text
from regwatch.crawlers.document import Collected, Document, canonical_url
from regwatch.crawlers.exchange import CAPTURE_META, Capture
from regwatch.crawlers.extract import (
    Article,
    article_from_page,
    decode_html,
    links_from_listing,
)
from regwatch.crawlers.politeness import Validators, parse_max_age
from regwatch.crawlers.sitemaps import read_sitemap
from regwatch.crawlers.spiders import register
from regwatch.errors import ExtractError, FeedError, FetchError, RegwatchError

__all__ = ["ListingSpider", "SitemapSpider", "SourceSpider"]

MAX_ATTACHMENTS = 20
_EXTRACTION = ThreadPoolExecutor(1, thread_name_prefix="regwatch-extract")
# An article page this small whose every field has a selector is extracted on the event loop:
# that takes a few hundred microseconds, less than the hop to the extraction thread and back
# (measured: the hop cost more than the extraction). Bigger pages, automatic extraction
# (trafilatura) and attachments (PDF, DOCX) go to the extraction thread.
INLINE_EXTRACTION_BYTES = 256 * 1024
MAX_CHILD_SITEMAPS = 10
MAX_SITEMAP_DEPTH = 2


def _charset(response: Response) -> str | None:
    ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    for part in ctype.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"'")
    return None


def _key(url: str) -> str:
    """The URL's canonical form (the store's key for it); the URL itself if it has none."""
    try:
        return canonical_url(url)
    except ValueError:
        return url


def _content_type(response: Response) -> str:
    raw = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    return raw.split(";")[0].strip().lower()


class SourceSpider(scrapy.Spider):
    """What every regwatch spider shares: the source, the Fetcher, limits, and the one way an
    article page or an attachment becomes a Document.

    The base keeps the crawl's books, so a subclass has only pages to parse: it makes the one
    start request (conditional, with the last poll's validators), takes a 304 as "not
    modified", keeps the start page's validators and freshness, and gathers the Documents
    scraped into ``result``. A subclass parses the start page in :meth:`parse_start`. Failures
    of single pages are recorded in ``result.skipped``; a failure of the start page is
    ``fatal`` (the source failed)."""

    name = "regwatch-source"

    def __init__(
        self,
        source: Any,
        fetcher: Any,
        validators: Validators | None = None,
        known: Mapping[str, datetime] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=source.name, **kwargs)
        self.known = dict(known or {})  # canonical URL -> last seen (stored articles)
        self.revisit = timedelta(days=source.revisit_days)
        self.now = datetime.now(UTC)
        self.source = source
        self.fetcher = fetcher
        self.sent_validators = validators
        # Kept unless the start page brings new validators.
        self.result = Collected(source.name, validators=validators or Validators())
        self.fatal: RegwatchError | None = None
        self.allow = [re.compile(p) for p in source.allow]
        self.deny = [re.compile(p) for p in source.deny]
        self.articles = 0
        self.attachments = 0
        self.requested: set[str] = set()  # canonical URLs requested in this crawl

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._scraped, signal=signals.item_scraped)
        crawler.signals.connect(spider._callback_failed, signal=signals.spider_error)
        return spider

    def _scraped(self, item: Any, **_: Any) -> None:
        if isinstance(item, Document):
            self.result.documents.append(item)

    def _callback_failed(self, failure: Failure, response: Response, **_: Any) -> None:
        """A callback raised (our parsing, not the site): that page is skipped."""
        error = failure.value
        self.result.skipped.append(f"crawl: {response.url}: {type(error).__name__}: {error}")

    # ----------------------------------------------------------------- requests

    @final
    async def start(self) -> AsyncIterator[Any]:
        """The one start request; a subclass parses its answer in :meth:`parse_start`."""
        meta = {
            "start": True,
            "validators": self.sent_validators,
            "handle_httpstatus_list": [304],  # to _start_page, not the errback
        }
        self.requested.add(_key(self.source.url))
        yield Request(self.source.url, callback=self._start_page, errback=self.failed, meta=meta)

    async def _start_page(self, response: Response) -> list[Any]:
        # The Fetcher returns a 304 only to the validators we sent (else it raises).
        if response.status == 304:  # unchanged since the last poll: nothing else to fetch
            self.result.not_modified = True
            return []
        if not response.body.strip():  # every spider alike: an empty 200 is no "0 items" success
            self.fatal = ExtractError(
                f"crawl: {response.url} answered with an empty body; check the URL, or whether "
                "the site is down or refusing us"
            )
            return []  # its validators are not kept: the next poll fetches the page in full
        h = response.headers
        self.result.fresh_for = parse_max_age((h.get(b"Cache-Control") or b"").decode("latin-1"))
        fresh = Validators(
            (h.get(b"ETag") or b"").decode("latin-1") or None,
            (h.get(b"Last-Modified") or b"").decode("latin-1") or None,
        )
        if fresh:
            self.result.validators = fresh
        return await self.parse_start(response)

    async def parse_start(self, response: Response) -> list[Any]:
        """The start page's items and requests (the listing's first page, the sitemap)."""
        raise NotImplementedError(f"{type(self).__name__} does not parse its start page")

    def follow(self, url: str, callback: Any, **cb_kwargs: Any) -> Request | None:
        """A request for ``url`` with our errback, or None when this crawl already asked for
        the same page (by canonical URL). Scrapy's own duplicate filter is off: every request
        a spider makes goes through here."""
        key = _key(url)
        if key in self.requested:
            return None
        self.requested.add(key)
        return Request(url, callback=callback, errback=self.failed, cb_kwargs=cb_kwargs)

    def wanted(self, url: str) -> bool:
        if self.allow and not any(p.search(url) for p in self.allow):
            return False
        return not any(p.search(url) for p in self.deny)

    def article_request(self, url: str, published: datetime | None = None) -> Request | None:
        if self.articles >= self.source.max_articles or not self.wanted(url):
            return None
        if self.fresh_enough(url, published):
            return None
        request = self.follow(url, self.parse_article, hint=published)
        if request is not None:
            self.articles += 1
        return request

    def fresh_enough(self, url: str, changed: datetime | None) -> bool:
        """A stored article seen less than ``revisit_days`` ago is not fetched again — unless
        the sitemap dates it after our last visit."""
        seen = self.known.get(_key(url))
        if seen is None or (changed is not None and changed > seen):
            return False
        return self.now - seen < self.revisit

    def failed(self, failure: Failure) -> None:
        """Every request's errback. The error arrives as raised — the Fetcher's FetchError
        with its status, message and Retry-After, an UnsafeURLError — or as the robots.txt
        refusal: at the start page it fails the source; elsewhere the page is skipped."""
        request: Request | None = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        exc = failure.value
        error: RegwatchError
        if isinstance(exc, RegwatchError):
            error = exc
        elif isinstance(exc, IgnoreRequest):  # RobotsTxtMiddleware's refusal
            error = FetchError(
                f"robots: {url} is disallowed by the site's robots.txt; set robots = false on "
                "the source only if the site owner agrees"
            )
        else:
            error = FetchError(f"{type(exc).__name__}: {exc}")
        if request is not None and request.meta.get("start"):
            self.fatal = error
        else:
            self.result.skipped.append(str(error))

    # ----------------------------------------------------------------- pages

    # Callbacks return lists: for generator callbacks Scrapy inspects the source (tokenize,
    # ast) looking for return values, a measurable cost per page.
    # Extraction (lxml, trafilatura, pypdf) is CPU work: it runs on one extraction thread so
    # the event loop — the scheduler's, under the service — stays responsive meanwhile; only
    # a small page read by selectors alone is quicker to extract than to hand over.
    async def parse_article(self, response: Response, hint: datetime | None = None) -> list[Any]:
        if self.cheap_to_extract(response):
            return list(self.article_items(response, hint))
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            _EXTRACTION, lambda: list(self.article_items(response, hint))
        )

    def cheap_to_extract(self, response: Response) -> bool:
        """A small HTML page whose fields all have selectors (no trafilatura, no PDF/DOCX)."""
        src = self.source
        return (
            bool(src.title_selector and src.text_selector and src.date_selector)
            and len(response.body) <= INLINE_EXTRACTION_BYTES
            and attachment_kind(response.body, _content_type(response), response.url) is None
        )

    async def parse_attachment(self, response: Response, article: Article, label: str) -> list[Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            _EXTRACTION, lambda: list(self.attachment_items(response, article, label))
        )

    def article_items(self, response: Response, hint: datetime | None) -> Iterator[Any]:
        kind = attachment_kind(response.body, _content_type(response), response.url)
        if kind:  # linked straight to a PDF/DOCX
            yield from self.attachment_document(response, kind, "", None)
            return
        html = decode_html(response.body, _charset(response))
        src = self.source
        try:
            article = article_from_page(
                html,
                response.url,
                title_selector=src.title_selector,
                text_selector=src.text_selector,
                date_selector=src.date_selector,
            )
        except ExtractError as exc:
            self.result.skipped.append(str(exc))
            title = " ".join((scrapy.Selector(text=html).css("title::text").get() or "").split())
            article = Article(response.url, title, "", hint, None)  # its attachments still count
        else:
            yield Document(
                url=article.url,
                title=article.title,
                text=article.text,
                source=src.name,
                published=article.published or hint,
                lang=article.lang or self.default_lang,
                capture=self.capture(response),
            )
        for url, label in attachment_links(html, article.url, src.text_selector):
            if self.attachments >= MAX_ATTACHMENTS:
                break
            request = self.follow(url, self.parse_attachment, article=article, label=label)
            if request is not None:
                self.attachments += 1
                yield request

    def attachment_items(self, response: Response, article: Article, label: str) -> Iterator[Any]:
        kind = attachment_kind(response.body, _content_type(response), response.url)
        if kind is None:
            self.result.skipped.append(
                f"extract: {response.url} is linked as a PDF/DOCX but is neither"
            )
            return
        name = label or response.url.rsplit("/", 1)[-1]
        title = f"{article.title} — {name}" if article.title else name
        yield from self.attachment_document(response, kind, title, article)

    def attachment_document(
        self, response: Response, kind: str, title: str, article: Article | None
    ) -> Iterator[Document]:
        try:
            text = attachment_text(response.body, response.url, kind, self.fetcher.policy.max_bytes)
        except ExtractError as exc:
            self.result.skipped.append(str(exc))
            return
        yield Document(
            url=response.url,
            title=title or response.url.rsplit("/", 1)[-1],
            text=text,
            source=self.source.name,
            published=article.published if article else None,
            lang=(article.lang if article else None) or self.default_lang,
            capture=self.capture(response),
        )

    @staticmethod
    def capture(response: Response) -> Capture | None:
        """The Fetcher's capture of ``response`` (with [evidence] on): its Documents carry it."""
        capture = response.meta.get(CAPTURE_META)
        return capture if isinstance(capture, Capture) else None

    def page_html(self, response: Response) -> str:
        """The page as text: its declared charset, else sniffed (windows-1251, KOI8-R, …)."""
        return decode_html(response.body, _charset(response))

    @property
    def default_lang(self) -> str | None:
        langs = self.source.languages
        return langs[0] if len(langs) == 1 else None


@register("generic-html")
class ListingSpider(SourceSpider):
    """Listing page → article links (``link_selector``), following ``next_selector`` for up to
    ``max_pages`` listing pages."""

    async def parse_start(self, response: Response) -> list[Any]:
        return await self.parse_listing(response)

    async def parse_listing(self, response: Response, page: int = 1) -> list[Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            _EXTRACTION, lambda: list(self.listing_items(response, page))
        )

    def listing_items(self, response: Response, page: int) -> Iterator[Any]:
        html = decode_html(response.body, _charset(response))
        try:
            links = links_from_listing(html, response.url, self.source.link_selector)
        except ExtractError as exc:
            self.fatal = exc
            return
        if not links and page == 1:
            self.fatal = ExtractError(
                f"extract: {self.source.url} has no links matching "
                f"{self.source.link_selector!r}; check the source's link_selector against the "
                "listing page"
            )
            return
        for url in links:
            request = self.article_request(url)
            if request is not None:
                yield request
        if self.source.next_selector and page < self.source.max_pages:
            nxt = links_from_listing(html, response.url, self.source.next_selector)
            request = self.follow(nxt[0], self.parse_listing, page=page + 1) if nxt else None
            if request is not None:
                yield request


@register("generic-sitemap")
class SitemapSpider(SourceSpider):
    """Sitemap index → newest child sitemaps → newest URLs (``lastmod`` or the news sitemap's
    ``publication_date`` within ``recent_days``; entries without a date are kept, after the
    dated ones)."""

    async def parse_start(self, response: Response) -> list[Any]:
        return await self.parse_sitemap(response)

    async def parse_sitemap(self, response: Response, depth: int = 0) -> list[Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            _EXTRACTION, lambda: list(self.sitemap_items(response, depth))
        )

    def sitemap_items(self, response: Response, depth: int) -> Iterator[Any]:
        try:
            kind, entries = read_sitemap(response.body, response.url, self.fetcher.policy.max_bytes)
        except (FeedError, ExtractError, FetchError) as exc:
            if depth == 0:
                self.fatal = exc
            else:
                self.result.skipped.append(str(exc))
            return
        since = datetime.now(UTC) - timedelta(days=self.source.recent_days)
        fresh = [(url, when) for url, when in entries if when is None or when >= since]
        fresh.sort(key=lambda e: e[1] or datetime.min.replace(tzinfo=UTC), reverse=True)
        if kind == "sitemapindex":
            if depth >= MAX_SITEMAP_DEPTH:
                self.result.skipped.append(f"sitemap: {response.url} nests too deep; not followed")
                return
            for url, _when in fresh[:MAX_CHILD_SITEMAPS]:
                request = self.follow(url, self.parse_sitemap, depth=depth + 1)
                if request is not None:
                    yield request
        elif kind == "urlset":
            for url, when in fresh:
                request = self.article_request(url, when)
                if request is not None:
                    yield request
        elif depth == 0:
            self.fatal = FeedError(
                f"sitemap: {response.url} is not a sitemap (root element <{kind}>); point the "
                'source at the sitemap.xml, or use type = "html" with a link_selector'
            )
