"""adilet.zan.kz — Kazakhstan's legal information system (Ministry of Justice): adopted acts
and their editions.

The start URL is the date index's RSS rendering (``/rus/index/docs/dt={year}-&rss=true``);
each item links an act page ``/rus/docs/{code}`` (Kazakh: ``/kaz/docs/{code}``) whose
requisites line gives the act's kind, adoption date and number («Закон Республики Казахстан
от 20 ноября 2026 года № 123-VIII ЗРК»), whose status gives the stage (through
:data:`STATUS_STAGES`) and whose editions block lists the act's editions, each labelled with
its date. Every edition page is its own Document with the edition's date as
``InstrumentFacts.version`` (the newest few are followed, within ``max_articles``;
``revisit_days`` spares those read recently), and the act's other language version (in the
source's ``languages``) is read too — all under the act's code as ``portal_id``.

The RSS index, the act URL and the text block (``div.container_gamma.text``) follow a public
scraper (worldwidelaw/legal-sources ``sources/KZ/Adilet/``); the status words follow public
mirrors of the portal; the editions block and its link scheme are the team's guess. All of it
is unverified against the live site; ``tests/crawlers/spiders/data/kz_adilet/`` holds pages
the team wrote in that shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

from parsel import Selector
from scrapy.http import Response

from regwatch.crawlers.extract import html_to_text
from regwatch.crawlers.spiders import register
from regwatch.crawlers.spiders.portal import Listing, Page, PortalSpider, Row, missing
from regwatch.crawlers.spiders.portal_fields import (
    day,
    kind_of,
    midnight,
    norm,
    read_status,
    rss_items,
)
from regwatch.instruments.vocabulary import InstrumentFacts, Stage

__all__ = ["STATUS_STAGES", "KzAdiletSpider", "act_from_page", "acts_from_index"]

PORTAL = "adilet.zan.kz"

# An act's status (Russian, Kazakh; norm()-ed). Repealed and suspended acts have no stage in
# the vocabulary: known, mapped to None.
STATUS_STAGES: dict[str, Stage | None] = {
    norm(k): v
    for k, v in {
        "Действующий": Stage.IN_FORCE,
        "Қолданыстағы": Stage.IN_FORCE,
        "Новый": Stage.PUBLISHED,
        "Жаңа": Stage.PUBLISHED,
        "Не введен в действие": Stage.PUBLISHED,
        "Не введён в действие": Stage.PUBLISHED,
        "Қолданысқа енгізілмеген": Stage.PUBLISHED,
        "Утративший силу": None,
        "Утратил силу": None,
        "Күшін жойған": None,
        "Приостановлен": None,
        "Тоқтатыла тұрған": None,
    }.items()
}
_ACT = re.compile(r"^/(rus|kaz)/docs/([A-Za-z0-9_]{4,40})(?:/([0-9]{8}))?/?$")
_LANG = {"rus": "ru", "kaz": "kk"}
_NUMBER = re.compile(r"(?:№|\bN)\s*([^\s,;]+)")
MAX_EDITIONS = 5


def _parts(url: str) -> tuple[str, str, str | None] | None:
    m = _ACT.match(urlsplit(url).path)
    return (m.group(1), m.group(2), m.group(3)) if m else None


def acts_from_index(body: bytes, url: str) -> Listing:
    """The index's items that link an act page (others skipped, with why). Pure."""
    rows: list[Row] = []
    skipped: list[str] = []
    for item in rss_items(body, PORTAL, url):
        link = urljoin(url, item.get("link", ""))
        if _parts(link) is None:
            skipped.append(f"{PORTAL}: {url}: item {item.get('title', '')!r} links to no act")
            continue
        rows.append(Row(link, item.get("title", ""), {"requisites": item.get("description", "")}))
    return Listing(rows, None, skipped)


def act_from_page(
    html: str, url: str, row: Row | None = None, languages: Iterable[str] = ("ru", "kk")
) -> Page:
    """One act page (one edition, one language) → its Document's fields and InstrumentFacts,
    and the act's other editions (same language, newest first) and language version to read.
    Raises ExtractError naming the page and what is missing."""
    parts = _parts(url)
    if parts is None:
        raise missing(PORTAL, url, "act code in the URL (/{rus|kaz}/docs/{code})")
    prefix, code, _edition = parts
    lang = _LANG[prefix]
    sel = Selector(text=html)
    title = " ".join(" ".join(sel.css("h1 ::text").getall()).split()) or (row.title if row else "")
    if not title:
        raise missing(PORTAL, url, "act title (h1)")
    body = "\n\n".join(html_to_text(t) for t in sel.css("div.container_gamma.text").getall())
    if not body.strip():
        raise missing(PORTAL, url, "act text (div.container_gamma.text)")
    head = [" ".join(t.split()) for t in sel.css("h1 ~ *:not(div) ::text").getall()]
    status = next((line for line in head if norm(line) in STATUS_STAGES), "")
    if not status:  # an unknown status in its element: read (and warned of) as it is
        status = " ".join(" ".join(sel.css(".status ::text").getall()).split())
    stage, warnings = read_status(STATUS_STAGES, status, PORTAL, url, "kz_adilet")
    requisites = " ".join(" ".join(sel.css(".requisites ::text").getall()).split())
    requisites = requisites or (row.fields.get("requisites", "") if row else "")
    number = _NUMBER.search(requisites)
    adopted = day(requisites)
    here = urlsplit(url).path.rstrip("/")
    version = None
    editions: list[str] = []
    alternates: list[str] = []
    wanted = set(languages)
    for a in sel.css("a[href]"):
        href = urljoin(url, a.attrib["href"].strip()).split("#", 1)[0]
        other = _parts(href)
        if other is None or other[1] != code:
            continue
        label = " ".join(" ".join(a.css("::text").getall()).split())
        dated = day(label)
        if urlsplit(href).path.rstrip("/") == here:
            if dated and version is None:
                version = dated.strftime("%d.%m.%Y")
        elif other[0] == prefix and dated:
            editions.append(href)
        elif other[0] != prefix and other[2] is None and _LANG[other[0]] in wanted:
            alternates.append(href)
    facts = InstrumentFacts(
        portal=PORTAL,
        portal_id=code,
        jurisdiction="kz",
        kind=kind_of(requisites) or kind_of(title),
        number=number.group(1).rstrip(".") if number else None,
        title=title,
        lang=lang,
        stage=stage,
        version=version,
    )
    lines = [f"{k}: {v}" for k, v in (("Статус", status), ("Редакция", version)) if v]
    lines += [requisites] if requisites else []
    return Page(
        url=url,
        title=title,
        text="\n".join([*lines, "", body]),
        facts=facts,
        published=midnight(adopted),
        lang=lang,
        related=tuple(dict.fromkeys([*alternates, *editions[:MAX_EDITIONS]])),
        warnings=warnings,
    )


@register("kz-adilet")
class KzAdiletSpider(PortalSpider):
    """RSS date index → act pages → their editions and language version."""

    portal = PORTAL

    def read_listing(self, response: Response) -> Listing:
        return acts_from_index(response.body, response.url)

    def read_page(self, response: Response, row: Row) -> Page:
        return act_from_page(self.page_html(response), response.url, row, self.source.languages)
