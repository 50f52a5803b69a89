"""lex.uz — Uzbekistan's National Database of Legislation: newly adopted acts.

The start URL is the portal's RSS feed of new acts (``/rss``); each item's link carries the
act's id (``/docs/{id}``). An act page exists per language under one id — ``/docs/{id}``
(Uzbek, Cyrillic), ``/uz/docs/{id}`` (Uzbek, Latin), ``/ru/docs/{id}``, ``/en/docs/{id}`` — so
the spider reads the item's page and the other versions the page links to (those in the
source's ``languages``), each a Document whose :class:`InstrumentFacts` carry the same
``portal_id``: that is what lets the instruments linker join them. From each page: the act's
kind (the ``ACT_FORM`` line: «ЎЗБЕКИСТОН РЕСПУБЛИКАСИНИНГ ҚОНУНИ», «ЗАКОН РЕСПУБЛИКИ
УЗБЕКИСТАН»), number and adoption date (the page title "{number} {DD.MM.YYYY}. {title}"),
title (``ACT_TITLE``), text (``div#divCont`` without its button chrome) and stage (a labelled
status through :data:`STATUS_STAGES`; an act on lex.uz is officially published, so a page
without a status is :attr:`Stage.PUBLISHED`).

The page structure (``divCont``, the ``ACT_*`` classes, the title format) follows a public
scraper (worldwidelaw/legal-sources ``sources/UZ/LexUz/``); the status line, the language
switcher and the one-id-per-language scheme are the team's reading. All of it is unverified
against the live site; ``tests/crawlers/spiders/data/uz_lex/`` holds pages the team wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

import lxml.html
from scrapy.http import Response

from regwatch.crawlers.extract import html_to_text, parse_date
from regwatch.crawlers.spiders import register
from regwatch.crawlers.spiders.portal import Listing, Page, PortalSpider, Row, missing
from regwatch.crawlers.spiders.portal_fields import (
    day,
    kind_of,
    labelled_fields,
    midnight,
    norm,
    read_status,
    rss_items,
)
from regwatch.instruments.vocabulary import InstrumentFacts, Stage

__all__ = ["STATUS_STAGES", "UzLexSpider", "act_from_page", "acts_from_feed"]

PORTAL = "lex.uz"

# An act's status, in Cyrillic and Latin Uzbek, Russian and English (norm()-ed). Repealed
# acts ("Кучини йўқотган") have no stage in the vocabulary: known, mapped to None.
STATUS_STAGES: dict[str, Stage | None] = {
    norm(k): v
    for k, v in {
        "Кучга кирган": Stage.IN_FORCE,
        "Амалда": Stage.IN_FORCE,
        "Kuchga kirgan": Stage.IN_FORCE,
        "Amalda": Stage.IN_FORCE,
        "Действует": Stage.IN_FORCE,
        "Вступил в силу": Stage.IN_FORCE,
        "In force": Stage.IN_FORCE,
        "Кучга кирмаган": Stage.PUBLISHED,
        "Kuchga kirmagan": Stage.PUBLISHED,
        "Не вступил в силу": Stage.PUBLISHED,
        "Not yet in force": Stage.PUBLISHED,
        "Имзоланган": Stage.SIGNED,
        "Imzolangan": Stage.SIGNED,
        "Подписан": Stage.SIGNED,
        "Signed": Stage.SIGNED,
        "Кучини йўқотган": None,
        "O'z kuchini yo'qotgan": None,
        "Kuchini yo'qotgan": None,
        "Утратил силу": None,
        "No longer in force": None,
    }.items()
}
_LABELS = {
    norm(k): v
    for k, v in {
        "Ҳолати": "status",
        "Holati": "status",
        "Статус": "status",
        "Status": "status",
        "Кучга кириш санаси": "in_force",
        "Kuchga kirish sanasi": "in_force",
        "Дата вступления в силу": "in_force",
        "Entry into force": "in_force",
    }.items()
}
_ACT = re.compile(r"^/(?:(uz|ru|en)/)?docs/(-?\d{1,12})/?$")
_LANG = {None: "uz", "uz": "uz", "ru": "ru", "en": "en"}  # None: /docs/{id}, Cyrillic Uzbek
_TITLE = re.compile(r"^\s*(\S+)\s+(\d{2}\.\d{2}\.\d{4})\.\s*(.*)$", re.S)
_NUMBER_WORD = re.compile(r"-(?:сон|son)$", re.IGNORECASE)
_CHROME = ("lx_elem2",)


def _act_id(url: str) -> tuple[str | None, str] | None:
    m = _ACT.match(urlsplit(url).path)
    return (m.group(1), m.group(2)) if m else None


def acts_from_feed(body: bytes, url: str) -> Listing:
    """The feed's items that link to an act page; others are skipped with why. Pure."""
    rows: list[Row] = []
    skipped: list[str] = []
    for item in rss_items(body, PORTAL, url):
        link = urljoin(url, item.get("link", ""))
        if _act_id(link) is None:
            skipped.append(f"{PORTAL}: {url}: item {item.get('title', '')!r} links to no act")
            continue
        rows.append(Row(link, item.get("title", ""), {"pubDate": item.get("pubDate", "")}))
    return Listing(rows, None, skipped)


def act_from_page(
    html: str, url: str, row: Row | None = None, languages: Iterable[str] = ("uz", "ru", "en")
) -> Page:
    """One act page (one language version) → its Document's fields and InstrumentFacts, and
    the act's other language versions it links to (in ``languages``). Raises ExtractError
    naming the page and what is missing."""
    ids = _act_id(url)
    if ids is None:
        raise missing(PORTAL, url, "act id in the URL (/{lang}/docs/{id})")
    prefix, act_id = ids
    lang = _LANG[prefix]
    root = lxml.html.fromstring(html)
    cont = root.get_element_by_id("divCont", None)
    if cont is None:
        raise missing(PORTAL, url, "act text (div#divCont)")
    for cls in _CHROME:
        for el in cont.find_class(cls):
            el.drop_tree()

    def part(cls: str) -> str:
        return " ".join(" ".join(el.text_content().split()) for el in cont.find_class(cls))

    page_title = " ".join((root.findtext(".//title") or "").split())
    m = _TITLE.match(page_title)
    number = _NUMBER_WORD.sub("", m.group(1)) if m else None
    adopted = day(m.group(2)) if m else None
    title = part("ACT_TITLE") or (m.group(3) if m else "") or (row.title if row else "")
    if not title:
        raise missing(PORTAL, url, "act title (ACT_TITLE or the page title)")
    text = html_to_text(lxml.html.tostring(cont, encoding="unicode"))
    if not text.strip():
        raise missing(PORTAL, url, "act text (div#divCont)")
    header = "\n".join(
        lxml.html.tostring(el, encoding="unicode") for el in root.find_class("docs_header")
    )
    fields = labelled_fields(header, _LABELS)
    status = fields.get("status", "")
    stage, warnings = read_status(STATUS_STAGES, status, PORTAL, url, "uz_lex")
    if not status:
        stage = Stage.PUBLISHED  # on lex.uz is officially published
    published = parse_date(row.fields.get("pubDate", "")) if row else None
    stage_date = (
        {
            Stage.SIGNED: adopted,
            Stage.IN_FORCE: day(fields.get("in_force", "")),
            Stage.PUBLISHED: published.date() if published else None,
        }.get(stage)
        if stage
        else None
    )
    wanted = set(languages)
    related = []
    for a in root.iter("a"):
        href = urljoin(url, (a.get("href") or "").strip())
        other = _act_id(href)
        if other and other[1] == act_id and other[0] != prefix and _LANG[other[0]] in wanted:
            related.append(href.split("#", 1)[0])
    facts = InstrumentFacts(
        portal=PORTAL,
        portal_id=act_id,
        jurisdiction="uz",
        kind=kind_of(part("ACT_FORM")) or kind_of(title),
        number=number,
        title=title,
        lang=lang,
        issuing_body=part("ACCEPTING_BODY") or None,
        stage=stage,
        stage_date=stage_date,
    )
    head = [f"{label}: {value}" for label, value in (("Status", status), ("No.", number)) if value]
    return Page(
        url=url,
        title=title,
        text="\n".join([*head, "", text]) if head else text,
        facts=facts,
        published=midnight(adopted),
        lang=lang,
        related=tuple(dict.fromkeys(related)),
        warnings=warnings,
    )


@register("uz-lex")
class UzLexSpider(PortalSpider):
    """RSS feed of new acts → act pages → their other language versions."""

    portal = PORTAL

    def read_listing(self, response: Response) -> Listing:
        return acts_from_feed(response.body, response.url)

    def read_page(self, response: Response, row: Row) -> Page:
        return act_from_page(self.page_html(response), response.url, row, self.source.languages)
