"""legalacts.egov.kz — Kazakhstan's drafts of legal acts under public discussion.

Why this site needs code: its robots.txt disallows the draft pages (``/npa/view``) and their
attachments (``/application``); only the listings (``/list``, ``/Arvlist``) may be crawled. So
each draft becomes a Document from its *listing row* — title, status, act type, developer,
creation date and the date public discussion ends — with the draft page's URL as its identity,
never fetched. A row's fields are told apart by their labels (Russian or Kazakh: the site
serves Kazakh unless an ``egovLang`` cookie asks for Russian, and regwatch sends no cookies),
which CSS selectors cannot express. Listing pages are ``?page=N`` (5 drafts each) up to the
``totalPages`` value in a script, and at most the source's ``max_pages``.

When a draft's status changes (public discussion → archive) its row text changes, so the
stored document gets a new version with the change kept. Each Document carries the row's
:class:`InstrumentFacts` (:func:`facts_of`): the draft's id, kind (from the act type), title
and its language, developer, stage (the status through :data:`STATUS_STAGES`) and the end of
public discussion.

The row structure follows the team's notes in SOURCES.md ("How the draft portals are built");
it is unverified against the live site. ``tests/crawlers/spiders/data/kz_legalacts/`` holds
pages the team wrote in that shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree
from parsel import Selector
from scrapy.http import Response

from regwatch.crawlers.document import Document
from regwatch.crawlers.extract import html_to_text, parse_date
from regwatch.crawlers.spiders import register
from regwatch.crawlers.spiders.generic import ListingSpider
from regwatch.crawlers.spiders.portal_fields import (
    day,
    kind_of,
    kk_or_ru,
    norm,
    read_status,
    stage_of,
)
from regwatch.errors import ExtractError
from regwatch.instruments.vocabulary import InstrumentFacts, Stage

__all__ = [
    "STATUS_STAGES",
    "Draft",
    "KzLegalActsSpider",
    "drafts_from_listing",
    "facts_of",
    "listing_page_url",
]

PORTAL = "legalacts.egov.kz"

# A draft's status (Russian, Kazakh; norm()-ed): its listing in public discussion, or archived
# once discussion ended.
STATUS_STAGES: dict[str, Stage | None] = {
    norm(k): v
    for k, v in {
        "На публичном обсуждении": Stage.PUBLIC_DISCUSSION,
        "Публичное обсуждение": Stage.PUBLIC_DISCUSSION,
        "Жария талқылауда": Stage.PUBLIC_DISCUSSION,
        "Жария талқылау": Stage.PUBLIC_DISCUSSION,
        "Публичное обсуждение завершено": Stage.DISCUSSION_CLOSED,
        "Жария талқылау аяқталды": Stage.DISCUSSION_CLOSED,
        "Архив": Stage.DISCUSSION_CLOSED,
        "Мұрағат": Stage.DISCUSSION_CLOSED,
        "Мұрағатта": Stage.DISCUSSION_CLOSED,
        "Отозван": Stage.WITHDRAWN,
        "Кері қайтарылды": Stage.WITHDRAWN,
    }.items()
}

# Labels of a row's fields (lower case, without the colon), Russian and Kazakh.
_LABELS: dict[str, tuple[str, ...]] = {
    "status": ("статус", "мәртебесі", "мәртебе"),
    "type": ("вид акта", "вид нпа", "тип", "актінің түрі", "түрі"),
    "developer": ("разработчик", "государственный орган-разработчик", "әзірлеуші"),
    "created": ("дата создания", "создан", "құрылған күні", "құрылған күн"),
    "until": (
        "публичное обсуждение до",
        "обсуждение до",
        "дата окончания обсуждения",
        "жария талқылау мерзімі",
        "талқылау аяқталатын күн",
    ),
    "comments": ("комментарии", "комментариев", "пікірлер"),
}
_LABEL_OF = {label: field for field, labels in _LABELS.items() for label in labels}
_LINE = re.compile(r"^\s*([^:]{2,60}?)\s*:\s*(.*?)\s*$")
_TOTAL_PAGES = re.compile(r"""["']?totalPages["']?\s*[:=]\s*["']?(\d{1,7})""")
_DMY = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b")
MAX_ROWS = 200


@dataclass(frozen=True)
class Draft:
    """One listing row."""

    url: str  # the draft's page (/npa/view?id=…): its identity, not fetched
    title: str
    fields: dict[str, str]  # status, type, developer, created, until, comments (those present)
    published: datetime | None  # the creation date

    def text(self) -> str:
        """The row as text: every labelled field, the status first (a status change is a change
        of the document)."""
        names = {
            "status": "Статус",
            "type": "Вид акта",
            "developer": "Разработчик",
            "created": "Дата создания",
            "until": "Публичное обсуждение до",
        }
        lines = [self.title]
        lines += [
            f"{label}: {self.fields[key]}" for key, label in names.items() if key in self.fields
        ]
        return "\n".join(lines)


def _row_of(link: Any, links: set[Any]) -> Any:
    """The element holding one draft: the link's farthest ancestor that holds no other draft
    link (the first ancestor holding two is the list itself)."""
    row = link
    for parent in link.iterancestors():
        if parent.tag in ("body", "html") or any(
            el in links and el is not link for el in parent.iter()
        ):
            break
        row = parent
    return row


def _lines(row: Any) -> list[str]:
    """The row's visible text, one line per block element (a label and its value in inline
    elements stay on one line)."""
    return html_to_text(lxml.html.tostring(row, encoding="unicode", with_tail=False)).splitlines()


def _fields(lines: list[str]) -> dict[str, str]:
    """Labelled values: "Label: value" on one line, or the label's line and the value on the
    next (a label and its value in two elements)."""
    fields: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = _LINE.match(line)
        if m is None:
            continue
        key = _LABEL_OF.get(" ".join(m.group(1).lower().split()))
        value = m.group(2)
        if not value and i + 1 < len(lines) and not _LINE.match(lines[i + 1]):
            value = lines[i + 1]
        if key is not None and key not in fields and value:
            fields[key] = value
    return fields


def drafts_from_listing(html: str, base_url: str, link_selector: str) -> tuple[list[Draft], int]:
    """The drafts on one listing page, in page order, and the listing's total page count (1
    when the page does not say). Pure: tested offline against the team's pages."""
    sel = Selector(text=html)
    try:
        links = sel.css(link_selector)
    except Exception as exc:  # cssselect raises several types on a bad selector
        raise ExtractError(f"kz-legalacts: bad link_selector {link_selector!r}: {exc}") from None
    del links[MAX_ROWS:]  # five a page; a hostile page of thousands is not walked
    roots = {link.root for link in links}
    drafts: list[Draft] = []
    seen: set[str] = set()
    for link in links:
        href = link.attrib.get("href", "")
        url = urljoin(base_url, href.strip()).split("#", 1)[0]
        if not href or urlsplit(url).scheme not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        title = " ".join(" ".join(link.css("::text").getall()).split())
        fields = _fields(_lines(_row_of(link.root, roots)))
        created = fields.get("created", "")
        published = parse_date(created) if _DMY.search(created) else None
        if title and fields:  # a link without labelled fields (help, navigation) is no draft
            drafts.append(Draft(url, title, fields, published))
    total = _TOTAL_PAGES.search(html)
    return drafts, max(1, int(total.group(1))) if total else 1


def facts_of(draft: Draft) -> InstrumentFacts:
    """What a listing row states about its draft. The creation date is when the draft was
    posted: the start of its public discussion."""
    draft_id = dict(parse_qsl(urlsplit(draft.url).query)).get("id")
    status = draft.fields.get("status", "")
    stage = stage_of(STATUS_STAGES, status) if status else None
    created = day(draft.fields.get("created", ""))
    return InstrumentFacts(
        portal=PORTAL,
        portal_id=draft_id,
        jurisdiction="kz",
        kind=kind_of(draft.fields.get("type", "")) or kind_of(draft.title),
        title=draft.title,
        lang=kk_or_ru(draft.title),
        issuing_body=draft.fields.get("developer"),
        stage=stage,
        stage_date=created if stage is Stage.PUBLIC_DISCUSSION else None,
        consultation_start=created,
        consultation_end=day(draft.fields.get("until", "")),
    )


def listing_page_url(url: str, page: int) -> str:
    """``url`` with its ``page`` parameter set to ``page`` (page 1: the URL without it)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]
    if page > 1:
        query.append(("page", str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))


@register("kz-legalacts")
class KzLegalActsSpider(ListingSpider):
    """Drafts from listing rows; listing pages up to ``totalPages`` and ``max_pages``."""

    def listing_items(self, response: Response, page: int) -> Iterator[Any]:
        try:
            drafts, total = drafts_from_listing(
                self.page_html(response), response.url, self.source.link_selector
            )
        except (ExtractError, etree.ParserError) as exc:
            if page == 1:
                self.fatal = exc if isinstance(exc, ExtractError) else ExtractError(str(exc))
            else:
                self.result.skipped.append(str(exc))
            return
        if not drafts and page == 1:
            self.fatal = ExtractError(
                f"kz-legalacts: {self.source.url} lists no drafts (no links matching "
                f"{self.source.link_selector!r}); the listing's layout may have changed"
            )
            return
        for draft in drafts:
            if self.articles >= self.source.max_articles:
                return
            _stage, warnings = read_status(
                STATUS_STAGES, draft.fields.get("status", ""), PORTAL, draft.url, "kz_legalacts"
            )
            self.result.warnings.extend(warnings)
            self.articles += 1
            yield Document(
                url=draft.url,
                title=draft.title,
                text=draft.text(),
                source=self.source.name,
                published=draft.published,
                lang=self.default_lang,
                instrument=facts_of(draft),
                capture=self.capture(response),
            )
        if page < min(total, self.source.max_pages):
            request = self.follow(
                listing_page_url(self.source.url, page + 1), self.parse_listing, page=page + 1
            )
            if request is not None:
                yield request
