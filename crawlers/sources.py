"""Collect one configured source into Documents: feeds here (httpx → feedparser), ``html`` and
``sitemap`` sources with Scrapy (``crawlers/crawl.py``) — both through the one Fetcher.

A failing article is recorded in ``skipped`` and the rest go on; a failing source raises
FetchError/FeedError/ExtractError for the caller to record on the source's row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from regwatch.config import SourceConfig
from regwatch.crawlers.document import Collected
from regwatch.crawlers.feeds import parse_feed
from regwatch.crawlers.fetch import Fetcher
from regwatch.crawlers.politeness import Validators

__all__ = ["collect"]


def collect(
    source: SourceConfig,
    fetcher: Fetcher,
    validators: Validators | None = None,
    known: Mapping[str, datetime] | None = None,
) -> Collected:
    """Fetch and parse one source. ``validators`` from the previous poll make the request for
    the feed (or the listing page / sitemap) conditional; a 304 comes back as ``not_modified``
    with no documents. ``known`` (canonical URL → last seen) spares stored articles until the
    source's ``revisit_days`` pass."""
    if source.type == "rss":
        return _collect_feed(source, fetcher, validators)
    from regwatch.crawlers.crawl import crawl_blocking  # Scrapy is imported only when crawling

    return crawl_blocking(source, fetcher, validators, known or {})


def _default_lang(source: SourceConfig) -> str | None:
    return source.languages[0] if len(source.languages) == 1 else None


def _collect_feed(
    source: SourceConfig, fetcher: Fetcher, validators: Validators | None
) -> Collected:
    headers = {"User-Agent": source.user_agent} if source.user_agent else None
    resp = fetcher.get(source.url, headers, validators=validators)
    if resp.not_modified:
        # A 304 may repeat or refresh the validators; keep the old ones when it does not.
        fresh = resp.validators or validators or Validators()
        return Collected(source.name, not_modified=True, validators=fresh, fresh_for=resp.max_age)
    result = parse_feed(
        resp.body,
        resp.url,
        source.name,
        resp.headers.get("content-type", ""),
        default_lang=_default_lang(source),
        capture=resp.capture,
    )
    lifetimes = [t for t in (resp.max_age, result.ttl_seconds) if t is not None]
    return Collected(
        source.name,
        result.documents,
        result.skipped,
        result.warnings,
        # A cut feed is read in full next time: its validators would earn a 304 instead.
        validators=Validators() if result.truncated else resp.validators,
        fresh_for=max(lifetimes) if lifetimes else None,
    )
