"""Collect one configured source into Documents: feeds and HTML listing pages.

A failing article is recorded in ``skipped`` and the rest go on; a failing source raises
FetchError/FeedError/ExtractError for the caller to record on the source's row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from config import SourceConfig
from crawlers.document import Document
from crawlers.extract import article_from_page, decode_html, links_from_listing
from crawlers.feeds import parse_feed
from crawlers.fetch import Fetcher
from crawlers.politeness import Validators
from errors import ExtractError, FetchError

__all__ = ["MAX_ARTICLES_PER_LISTING", "Collected", "collect"]

MAX_ARTICLES_PER_LISTING = 100


@dataclass
class Collected:
    source: str
    documents: list[Document] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    not_modified: bool = False  # the server answered 304: nothing was parsed
    validators: Validators = field(default_factory=Validators)  # for the next conditional GET
    fresh_for: float | None = None  # seconds the server says the content stays fresh


def collect(
    source: SourceConfig, fetcher: Fetcher, validators: Validators | None = None
) -> Collected:
    """Fetch and parse one source. ``validators`` from the previous poll make a feed request
    conditional; a 304 comes back as ``not_modified`` with no documents."""
    if source.type == "rss":
        return _collect_feed(source, fetcher, validators)
    return _collect_html(source, fetcher)


def _default_lang(source: SourceConfig) -> str | None:
    return source.languages[0] if len(source.languages) == 1 else None


def _collect_feed(
    source: SourceConfig, fetcher: Fetcher, validators: Validators | None
) -> Collected:
    resp = fetcher.get(source.url, validators=validators)
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
    )
    lifetimes = [t for t in (resp.max_age, result.ttl_seconds) if t is not None]
    return Collected(
        source.name,
        result.documents,
        result.skipped,
        validators=resp.validators,
        fresh_for=max(lifetimes) if lifetimes else None,
    )


def _collect_html(source: SourceConfig, fetcher: Fetcher) -> Collected:
    listing = fetcher.get(source.url)
    links = links_from_listing(
        decode_html(listing.body, listing.charset), listing.url, source.link_selector
    )
    if not links:
        raise ExtractError(
            f"extract: {source.url} has no links matching {source.link_selector!r}; "
            "check the source's link_selector against the listing page"
        )
    out = Collected(source.name)
    for url in links[:MAX_ARTICLES_PER_LISTING]:
        try:
            page = fetcher.get(url)
            article = article_from_page(
                decode_html(page.body, page.charset),
                page.url,
                title_selector=source.title_selector,
                text_selector=source.text_selector,
                date_selector=source.date_selector,
            )
        except (FetchError, ExtractError) as exc:
            out.skipped.append(str(exc))
            continue
        lang = article.lang or _default_lang(source)
        out.documents.append(
            Document(
                url=article.url,
                title=article.title,
                text=article.text,
                source=source.name,
                published=article.published,
                lang=lang,
            )
        )
    return out
