"""Collect one configured source into Documents: feeds, and HTML listing pages with their
articles and the PDF/DOCX files those link to (or the listing links to directly).

A failing article is recorded in ``skipped`` and the rest go on; a failing source raises
FetchError/FeedError/ExtractError for the caller to record on the source's row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from parsel import Selector

from config import SourceConfig
from crawlers.attachments import attachment_kind, attachment_links, attachment_text
from crawlers.document import Document
from crawlers.extract import Article, article_from_page, decode_html, links_from_listing
from crawlers.feeds import parse_feed
from crawlers.fetch import Fetcher, Response
from crawlers.politeness import Validators
from errors import ExtractError, FetchError

__all__ = ["MAX_ARTICLES_PER_LISTING", "Collected", "collect"]

MAX_ARTICLES_PER_LISTING = 100
MAX_ATTACHMENTS_PER_RUN = 20


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
    seen_attachments: set[str] = set()
    for url in links[:MAX_ARTICLES_PER_LISTING]:
        try:
            page = fetcher.get(url)
            kind = attachment_kind(page.body, page.content_type, page.url)
            if kind:  # the listing links straight to a PDF/DOCX
                out.documents.append(_attachment_document(source, fetcher, page, kind, "", None))
                continue
            html = decode_html(page.body, page.charset)
        except (FetchError, ExtractError) as exc:
            out.skipped.append(str(exc))
            continue
        try:
            article = article_from_page(
                html,
                page.url,
                title_selector=source.title_selector,
                text_selector=source.text_selector,
                date_selector=source.date_selector,
            )
        except ExtractError as exc:
            # A page that is only a title and a PDF link still yields its attachments.
            out.skipped.append(str(exc))
            title = " ".join((Selector(text=html).css("title::text").get() or "").split())
            stub = Article(page.url, title or _filename(page.url), "", None, None)
            _collect_attachments(source, fetcher, html, stub, out, seen_attachments)
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
        _collect_attachments(source, fetcher, html, article, out, seen_attachments)
    return out


def _collect_attachments(
    source: SourceConfig,
    fetcher: Fetcher,
    html: str,
    article: Article,
    out: Collected,
    seen: set[str],
) -> None:
    """PDF/DOCX files linked from the article's body become documents of their own."""
    for url, label in attachment_links(html, article.url, source.text_selector):
        if url in seen or len(seen) >= MAX_ATTACHMENTS_PER_RUN:
            continue
        seen.add(url)
        try:
            resp = fetcher.get(url)
            kind = attachment_kind(resp.body, resp.content_type, resp.url)
            if kind is None:
                raise ExtractError(f"extract: {url} is linked as a PDF/DOCX but is neither")
            title = f"{article.title} — {label or _filename(resp.url)}"
            out.documents.append(_attachment_document(source, fetcher, resp, kind, title, article))
        except (FetchError, ExtractError) as exc:
            out.skipped.append(str(exc))


def _attachment_document(
    source: SourceConfig,
    fetcher: Fetcher,
    resp: Response,
    kind: str,
    title: str,
    article: Article | None,
) -> Document:
    text = attachment_text(resp.body, resp.url, kind, fetcher.policy.max_bytes)
    return Document(
        url=resp.url,
        title=title or _filename(resp.url),
        text=text,
        source=source.name,
        published=article.published if article else None,
        lang=(article.lang if article else None) or _default_lang(source),
    )


def _filename(url: str) -> str:
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or url
