"""Scrapy for ``html`` and ``sitemap`` sources, on asyncio, through the one Fetcher.

Scrapy runs without a Twisted reactor (``TWISTED_REACTOR_ENABLED = False``, Scrapy ≥ 2.19):
each crawl is an :class:`~scrapy.crawler.AsyncCrawlerRunner` coroutine on an ordinary asyncio
loop, so a long-lived scheduler can run one crawl after another in the same process (no
``ReactorNotRestartable``). Each crawl owns its loop: :func:`crawl_blocking` runs it on a
fresh one in the calling thread (``regwatch collect``, the service's poll thread), and
:func:`stop_crawls` stops it from any other loop (the service's, at shutdown).

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
from collections.abc import Awaitable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.crawler import AsyncCrawlerRunner
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, Request, Response
from scrapy.http.request import NO_CALLBACK
from scrapy.responsetypes import responsetypes

from regwatch.crawlers.document import Collected
from regwatch.crawlers.exchange import CAPTURE_META
from regwatch.crawlers.fetch import Fetcher
from regwatch.crawlers.politeness import Validators
from regwatch.crawlers.spiders import spider_class
from regwatch.crawlers.spiders.generic import SourceSpider
from regwatch.errors import FetchError

__all__ = [
    "CRAWL_TIMEOUT_S",
    "FetcherDownloadHandler",
    "crawl",
    "crawl_blocking",
    "stop_crawls",
]

# Scrapy reports every crawl at INFO (settings, stats); regwatch reports sources itself.
logging.getLogger("scrapy").setLevel(logging.WARNING)
log = logging.getLogger("regwatch.crawlers")

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
            if request.callback is NO_CALLBACK and exc.status is None and _is_robots(request):
                # Unreachable (DNS, connection, deadline, refused address): Scrapy would log
                # a traceback at ERROR, then crawl as if robots.txt allowed all. One line.
                log.warning(
                    "crawl: %s unreachable (%s); crawling as if it allows all", request.url, exc
                )
                raise IgnoreRequest(str(exc)) from None
            if exc.status is None or request.callback is not NO_CALLBACK:
                raise  # this very error reaches the spider's errback (failure.value)
            # Scrapy's own request (robots.txt) reads an error status as an answer: 4xx/5xx
            # means "allow all", as Scrapy's RobotsTxtMiddleware expects from a response.
            return Response(request.url, status=exc.status, request=request)
        # A 304 (only ever to the start page's validators) is a response like any other: the
        # start request lets it through to the spider's start-page callback.
        if resp.capture is not None:  # the spider's Documents carry it (SourceSpider.capture)
            request.meta[CAPTURE_META] = resp.capture
        resp_headers = Headers(resp.headers)
        cls = responsetypes.from_args(headers=resp_headers, url=resp.url, body=resp.body)
        return cls(
            url=resp.url, status=resp.status, headers=resp_headers, body=resp.body, request=request
        )


def _is_robots(request: Request) -> bool:
    """Scrapy's own robots.txt request (RobotsTxtMiddleware)."""
    return bool(request.meta.get("dont_obey_robotstxt")) and request.url.endswith("/robots.txt")


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


# Crawls running now, each on the loop that runs it (a poll's own, or a test's).
_RUNNERS: dict[AsyncCrawlerRunner, asyncio.AbstractEventLoop] = {}


async def stop_crawls() -> None:
    """Ask every running crawl to close now (service shutdown): pages in flight finish, nothing
    new is fetched, and what was scraped so far is returned and stored as usual. Crawls on
    other threads' loops are stopped there."""
    here = asyncio.get_running_loop()
    stopping: list[Awaitable[None]] = []
    for runner, loop in list(_RUNNERS.items()):
        stop = runner.stop()
        if loop is here:
            stopping.append(stop)
            continue
        try:
            stopping.append(asyncio.wrap_future(asyncio.run_coroutine_threadsafe(stop, loop)))
        except RuntimeError:  # that crawl has just ended and its loop closed
            stop.close()
    # A crawl that ends meanwhile cancels its pending stop: that one has nothing left to do.
    for outcome in await asyncio.gather(*stopping, return_exceptions=True):
        if isinstance(outcome, Exception):
            raise outcome


async def crawl(
    source: Any,
    fetcher: Fetcher,
    validators: Validators | None = None,
    known: Mapping[str, datetime] | None = None,
) -> Collected:
    """Crawl one html/sitemap source; its Documents and the pages skipped (with why). The start
    page is fetched conditionally with ``validators``: unchanged, nothing else is fetched.
    Raise the source's error when its start page fails."""
    runner = AsyncCrawlerRunner(_settings(source, fetcher))
    crawler = runner.create_crawler(spider_class(source.type, source.spider))
    _RUNNERS[runner] = asyncio.get_running_loop()
    try:
        await runner.crawl(
            crawler, source=source, fetcher=fetcher, validators=validators, known=known or {}
        )
    finally:
        del _RUNNERS[runner]
    spider = crawler.spider
    assert isinstance(spider, SourceSpider)
    if spider.fatal is not None:
        raise spider.fatal
    return spider.result


def crawl_blocking(
    source: Any,
    fetcher: Fetcher,
    validators: Validators | None = None,
    known: Mapping[str, datetime] | None = None,
) -> Collected:
    """Run :func:`crawl` from synchronous code (``regwatch collect``, the service's poll
    thread) on a loop of its own; :func:`stop_crawls` reaches it there."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(crawl(source, fetcher, validators, known))
    raise RuntimeError("crawl_blocking() called on an event loop; await crawl() instead")
