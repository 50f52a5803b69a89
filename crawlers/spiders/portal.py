"""What the draft-portal and legal-act-portal spiders share: a listing (an HTML table, cards or
an RSS index) gives rows; each row's page gives an :class:`~regwatch.instruments.vocabulary.
InstrumentFacts` on its Document. A page may name further pages of the same instrument — its
other language versions (lex.uz) or editions (adilet.zan.kz) — which are read the same way.

Each portal's module holds its own data (status → :class:`Stage` tables, field labels) and pure
parsing functions tested offline (with the helpers of ``portal_fields.py``); this module holds
the crawl around them and :func:`missing`, the one shape of a bad page's error. One bad row or
page is recorded in ``skipped``; the rest go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from lxml import etree
from scrapy.http import Response

from regwatch.crawlers.document import Document
from regwatch.crawlers.spiders.generic import _EXTRACTION, ListingSpider
from regwatch.crawlers.spiders.portal_fields import MAX_ROWS, kind_of, midnight, read_status
from regwatch.errors import ExtractError
from regwatch.instruments.vocabulary import InstrumentFacts, Stage

__all__ = ["Listing", "Page", "PortalSpider", "Row", "consultation_page", "missing"]

MAX_RELATED = 6  # further pages (language versions, editions) followed from one page


@dataclass(frozen=True)
class Row:
    """One listing row: the page it points to and what the row itself states."""

    url: str
    title: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)
    related: bool = False  # reached from another page of the instrument, not from the listing


@dataclass(frozen=True)
class Listing:
    rows: list[Row]
    next_url: str | None = None  # the listing's next page, if any
    skipped: list[str] = field(default_factory=list)  # rows that could not be read, with why


@dataclass(frozen=True)
class Page:
    """One page read: its Document's fields and the instrument facts."""

    url: str
    title: str
    text: str
    facts: InstrumentFacts
    published: datetime | None = None
    lang: str | None = None
    related: tuple[str, ...] = ()  # other pages of this instrument to read (versions, editions)
    warnings: tuple[str, ...] = ()  # what the source's health should say (an unknown status)


def missing(portal: str, url: str, what: str) -> ExtractError:
    """The error for a page that lacks what the spider needs, naming all three and the fix."""
    return ExtractError(
        f"{portal}: {url}: no {what} found; the page's layout may have changed — check the "
        f"spider crawlers/spiders/ for {portal} against the live page"
    )


def consultation_page(
    *,
    portal: str,
    module: str,
    jurisdiction: str,
    url: str,
    draft_id: str,
    title: str,
    lang: str,
    fields: Mapping[str, str],
    labels: tuple[tuple[str, str], ...],
    body: str,
    start: date | None,
    end: date | None,
    stages: Mapping[str, Stage | None],
) -> Page:
    """A consultation portal's draft page as a Page: its status read through ``stages`` (the
    module's table), the discussion period as the consultation, and the text headed by the
    ``labels``' fields (key, label) that the page gives."""
    stage, warnings = read_status(stages, fields.get("status", ""), portal, url, module)
    facts = InstrumentFacts(
        portal=portal,
        portal_id=draft_id,
        jurisdiction=jurisdiction,
        kind=kind_of(fields.get("type", "")) or kind_of(title),
        title=title,
        lang=lang,
        issuing_body=fields.get("developer"),
        stage=stage,
        stage_date=start if stage is Stage.PUBLIC_DISCUSSION else None,
        consultation_start=start,
        consultation_end=end,
    )
    head = [f"{label}: {fields[key]}" for key, label in labels if fields.get(key)]
    return Page(
        url=url,
        title=title,
        text="\n".join(head) + "\n\n" + body,
        facts=facts,
        published=midnight(start),
        lang=lang,
        warnings=warnings,
    )


class PortalSpider(ListingSpider):
    """A listing's rows → their pages → Documents carrying InstrumentFacts.

    A subclass sets ``portal`` and implements :meth:`read_listing` and :meth:`read_page` (both
    calling its module's pure functions). Robots.txt, politeness and limits are the base
    spider's: every request goes through :meth:`follow` and the one Fetcher; ``max_articles``
    bounds the pages read, ``max_pages`` the listing pages, ``revisit_days`` spares pages read
    recently."""

    portal: ClassVar[str] = ""

    def read_listing(self, response: Response) -> Listing:
        raise NotImplementedError

    def read_page(self, response: Response, row: Row) -> Page:
        raise NotImplementedError

    def listing_items(self, response: Response, page: int) -> Iterator[Any]:
        try:
            listing = self.read_listing(response)
        except (ExtractError, etree.ParserError, ValueError) as exc:
            error = exc if isinstance(exc, ExtractError) else ExtractError(f"{self.portal}: {exc}")
            if page == 1:
                self.fatal = error
            else:
                self.result.skipped.append(str(error))
            return
        self.result.skipped.extend(listing.skipped)
        if not listing.rows and page == 1:
            self.fatal = ExtractError(
                f"{self.portal}: {response.url} lists nothing the spider can read; the "
                "listing's layout may have changed"
            )
            return
        for row in listing.rows[:MAX_ROWS]:
            request = self.page_request(row)
            if request is not None:
                yield request
        if listing.next_url and page < self.source.max_pages:
            request = self.follow(listing.next_url, self.parse_listing, page=page + 1)
            if request is not None:
                yield request

    def page_request(self, row: Row) -> Any:
        if self.articles >= self.source.max_articles or not self.wanted(row.url):
            return None
        if self.fresh_enough(row.url, None):
            return None
        request = self.follow(row.url, self.parse_portal_page, row=row)
        if request is not None:
            self.articles += 1
        return request

    async def parse_portal_page(self, response: Response, row: Row) -> list[Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            _EXTRACTION, lambda: list(self.portal_page_items(response, row))
        )

    def portal_page_items(self, response: Response, row: Row) -> Iterator[Any]:
        try:
            page = self.read_page(response, row)
        except (ExtractError, etree.ParserError, ValueError) as exc:
            self.result.skipped.append(
                str(exc)
                if isinstance(exc, ExtractError)
                else f"{self.portal}: {response.url}: {exc}"
            )
            return
        self.result.warnings.extend(page.warnings)
        yield Document(
            url=page.url,
            title=page.title,
            text=page.text,
            source=self.source.name,
            published=page.published,
            lang=page.lang or self.default_lang,
            instrument=page.facts,
            capture=self.capture(response),
        )
        if row.related:  # a related page's own related pages are the same set: not chained
            return
        for url in page.related[:MAX_RELATED]:
            request = self.page_request(Row(url, page.title, row.fields, related=True))
            if request is not None:
                yield request
