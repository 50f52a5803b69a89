"""Scrapy for ``html`` and ``sitemap`` sources, on asyncio, through the one Fetcher.

Scrapy runs without a Twisted reactor (``TWISTED_REACTOR_ENABLED = False``, Scrapy ≥ 2.19):
each crawl is an :class:`~scrapy.crawler.AsyncCrawlerRunner` coroutine on an ordinary asyncio
loop, so a long-lived scheduler can run one crawl after another in the same process (no
``ReactorNotRestartable``). Under :class:`scheduler.Service` crawls run on the service's loop;
elsewhere (``regwatch collect``, tests) on a loop of their own.

Every request Scrapy makes — start pages, articles, attachments, robots.txt — is downloaded by
:class:`FetcherDownloadHandler`, i.e. by the project's :class:`~crawlers.fetch.Fetcher` in a
worker thread: the same address checks at connect time, body cap after decompression,
deadline, redirect re-checks and per-host limits as every feed request. Scrapy's own
redirect, retry, compression and cookie handling are off; robots.txt is obeyed unless the
source sets ``robots = false``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scrapy import signals
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.crawler import AsyncCrawlerRunner
from scrapy.http import Headers, Request, Response
from scrapy.responsetypes import responsetypes

from regwatch.crawlers.document import Document
from regwatch.crawlers.fetch import Fetcher
from regwatch.crawlers.politeness import Validators
from regwatch.crawlers.spiders import spider_class
from regwatch.errors import FetchError

__all__ = [
    "CRAWL_TIMEOUT_S",
    "CrawlResult",
    "FetcherDownloadHandler",
    "crawl",
    "crawl_blocking",
    "stop_crawls",
]

# Scrapy reports every crawl at INFO (settings, stats); regwatch reports sources itself.
logging.getLogger("scrapy").setLevel(logging.WARNING)

CRAWL_TIMEOUT_S = 600  # a whole crawl of one source, at most
_FORWARDED = ("User-Agent", "Accept", "Accept-Language", "Referer")
CONCURRENT_REQUESTS = 8
# The Fetcher is synchronous: its calls run here, as many at once as Scrapy may send (the
# loop's default executor has only cpu + 4 threads). Shared by every crawl in the process.
_POOL = ThreadPoolExecutor(CONCURRENT_REQUESTS, thread_name_prefix="regwatch-fetch")


class FetcherDownloadHandler(BaseDownloadHandler):
    """Scrapy download handler for http/https that fetches with the spider's Fetcher."""

    async def download_request(self, request: Request) -> Response:
        spider = self.crawler.spider
        fetcher: Fetcher = spider.fetcher  # type: ignore[union-attr]
        headers: dict[str, str] = {}
        for name in _FORWARDED:
            value = request.headers.get(name)
            if value:
                headers[name] = value.decode("latin-1")
        validators = request.meta.get("validators")  # the start page's, from the last poll
        try:
            loop = asyncio.get_running_loop()
            resp = await loop.run_in_executor(
                _POOL, lambda: fetcher.get(request.url, headers, validators=validators)
            )
        except FetchError as exc:
            if exc.status is None:
                raise
            # An HTTP error status goes back to Scrapy as a response (robots.txt 404 = allow all;
            # HttpErrorMiddleware turns the rest into errbacks).
            extra = {"Retry-After": str(int(exc.retry_after))} if exc.retry_after else {}
            return Response(request.url, status=exc.status, headers=extra, request=request)
        if resp.not_modified:  # nothing to parse: the spider ends the crawl here
            return Response(resp.url, status=304, headers=Headers(resp.headers), request=request)
        resp_headers = Headers(resp.headers)
        cls = responsetypes.from_args(headers=resp_headers, url=resp.url, body=resp.body)
        return cls(
            url=resp.url, status=resp.status, headers=resp_headers, body=resp.body, request=request
        )


def _settings(source: Any, fetcher: Fetcher) -> dict[str, Any]:
    policy = fetcher.policy
    handler = f"{__name__}.FetcherDownloadHandler"
    return {
        "TWISTED_REACTOR_ENABLED": False,
        "DOWNLOAD_HANDLERS": {
            "http": handler,
            "https": handler,
            "file": None,
            "ftp": None,
            "s3": None,
            "data": None,
        },
        "ROBOTSTXT_OBEY": source.robots,
        "USER_AGENT": source.user_agent or policy.user_agent,
        "CONCURRENT_REQUESTS": CONCURRENT_REQUESTS,
        # Items are Documents handed to a list: no pipelines to run in parallel. Scrapy's
        # default (100) starts that many tasks per page's output — most of its overhead here.
        "CONCURRENT_ITEMS": 1,
        "CONCURRENT_REQUESTS_PER_DOMAIN": policy.per_host_concurrency,
        "DOWNLOAD_DELAY": 0,  # the Fetcher's HostLimiter spaces requests per host
        "DOWNLOAD_TIMEOUT": policy.timeout,
        "DOWNLOAD_MAXSIZE": policy.max_bytes,
        "REDIRECT_ENABLED": False,  # the Fetcher follows redirects, re-checking every hop
        "RETRY_ENABLED": False,  # the next poll is the retry
        "COMPRESSION_ENABLED": False,  # the Fetcher decompresses under its cap
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Machinery this use does not need, off to save per-request work.
        "HTTPPROXY_ENABLED": False,  # the Fetcher never reads proxy settings (trust_env off)
        "METAREFRESH_ENABLED": False,
        "REFERER_ENABLED": False,
        "DOWNLOADER_STATS": False,
        "MEMUSAGE_ENABLED": False,
        "LOGSTATS_INTERVAL": 0,
        "CLOSESPIDER_TIMEOUT": CRAWL_TIMEOUT_S,
        "LOG_LEVEL": "WARNING",
        "SPIDER_MODULES": [],
        # Per-request machinery with nothing to do here, off (measured: together ~30 % of
        # Scrapy's own time per page). Allowed domains are the source's allow/deny patterns;
        # the spider drops repeated URLs itself (by canonical URL, cheaper than Scrapy's
        # fingerprints); depth is bounded by max_pages and the sitemap depth; no one reads
        # Scrapy's stats; the Fetcher keeps the deadline and never sends credentials.
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
            "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
            "scrapy.downloadermiddlewares.downloadtimeout.DownloadTimeoutMiddleware": None,
        },
        "SPIDER_MIDDLEWARES": {
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
            "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
        },
        "EXTENSIONS": {
            "scrapy.extensions.corestats.CoreStats": None,
            "scrapy.extensions.logcount.LogCount": None,
        },
        "STATS_CLASS": "scrapy.statscollectors.DummyStatsCollector",
        "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",
    }


_RUNNERS: set[AsyncCrawlerRunner] = set()  # crawls running on this process's loops


async def stop_crawls() -> None:
    """Ask every running crawl to close now (service shutdown): pages in flight finish, nothing
    new is fetched, and what was scraped so far is returned and stored as usual."""
    await asyncio.gather(*(runner.stop() for runner in list(_RUNNERS)))


@dataclass
class CrawlResult:
    # Not in the repr: asyncio.run() formats the finished task (and so this result) when it
    # restores the SIGINT handler, and 2,000 documents' text took 0.25 s to format.
    documents: list[Document] = field(default_factory=list, repr=False)
    skipped: list[str] = field(default_factory=list, repr=False)
    not_modified: bool = False  # the start page answered 304 to our validators
    validators: Validators = field(default_factory=Validators)  # the start page's, for next time
    fresh_for: float | None = None  # the start page's Cache-Control max-age, seconds


async def crawl(
    source: Any,
    fetcher: Fetcher,
    validators: Validators | None = None,
    known: Mapping[str, datetime] | None = None,
) -> CrawlResult:
    """Crawl one html/sitemap source; its Documents and the pages skipped (with why). The start
    page is fetched conditionally with ``validators``: unchanged, nothing else is fetched.
    Raise the source's error when its start page fails."""
    result = CrawlResult()
    runner = AsyncCrawlerRunner(_settings(source, fetcher))
    crawler = runner.create_crawler(spider_class(source.type, source.spider))

    def item_scraped(item: Any, **_: Any) -> None:
        if isinstance(item, Document):
            result.documents.append(item)

    def spider_error(failure: Any, response: Response, **_: Any) -> None:
        result.skipped.append(
            f"crawl: {response.url}: {type(failure.value).__name__}: {failure.value}"
        )

    crawler.signals.connect(item_scraped, signal=signals.item_scraped)
    crawler.signals.connect(spider_error, signal=signals.spider_error)
    _RUNNERS.add(runner)
    try:
        await runner.crawl(
            crawler, source=source, fetcher=fetcher, validators=validators, known=known or {}
        )
    finally:
        _RUNNERS.discard(runner)
    spider: Any = crawler.spider
    if spider.fatal is not None:
        raise spider.fatal
    result.skipped[:0] = spider.skipped
    result.not_modified = spider.not_modified
    result.validators = spider.validators or validators or Validators()
    result.fresh_for = spider.fresh_for
    return result


def crawl_blocking(
    source: Any,
    fetcher: Fetcher,
    loop: asyncio.AbstractEventLoop | None = None,
    validators: Validators | None = None,
    known: Mapping[str, datetime] | None = None,
) -> CrawlResult:
    """Run :func:`crawl` from synchronous code in a thread without a running loop: on
    ``loop`` when it is running (the scheduler's), else on a fresh loop of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("crawl_blocking() called on an event loop; await crawl() instead")
    if loop is not None and loop.is_running():
        future = asyncio.run_coroutine_threadsafe(crawl(source, fetcher, validators, known), loop)
        return future.result(CRAWL_TIMEOUT_S + 60)
    return asyncio.run(crawl(source, fetcher, validators, known))
