"""regulation.gov.uz — Uzbekistan's portal of draft legal acts for public discussion.

The listing ``/{oz|uz|ru}/document/index?page=N`` is a table whose rows give the draft's title
and link (``/{lang}/d/{id}``), developer, document type, publication date and discussion end
date (DD/MM/YYYY); each draft's page gives the text (``div.tab_content_in`` tabs) and its
labelled fields — developer, type, discussion period, status. A draft becomes one Document
(its page) carrying :class:`InstrumentFacts`: portal id, kind, title, language, developer,
stage (the status through :data:`STATUS_STAGES`) and the discussion period. The status is the
text's first line, so a status change makes a new version of the document.

The listing's column order follows a public scraper (worldwidelaw/legal-sources
``sources/UZ/Regulation/``); the draft page's field labels and the status wording are the
team's reading of the notes in SOURCES.md. All of it is unverified against the live site;
``tests/crawlers/spiders/data/uz_regulation/`` holds pages the team wrote in that shape.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from parsel import Selector
from scrapy.http import Response

from regwatch.crawlers.extract import html_to_text
from regwatch.crawlers.spiders import register
from regwatch.crawlers.spiders.portal import (
    Listing,
    Page,
    PortalSpider,
    Row,
    consultation_page,
    missing,
)
from regwatch.crawlers.spiders.portal_fields import (
    day,
    days,
    labelled_fields,
    norm,
)
from regwatch.instruments.vocabulary import Stage

__all__ = ["STATUS_STAGES", "UzRegulationSpider", "draft_from_page", "drafts_from_listing"]

PORTAL = "regulation.gov.uz"

# The portal's discussion statuses (oz: Latin Uzbek, uz: Cyrillic Uzbek, ru), norm()-ed.
STATUS_STAGES: dict[str, Stage | None] = {
    norm(k): v
    for k, v in {
        "Muhokamada": Stage.PUBLIC_DISCUSSION,
        "Muhokama qilinmoqda": Stage.PUBLIC_DISCUSSION,
        "Муҳокамада": Stage.PUBLIC_DISCUSSION,
        "Муҳокама қилинмоқда": Stage.PUBLIC_DISCUSSION,
        "Обсуждается": Stage.PUBLIC_DISCUSSION,
        "Идёт обсуждение": Stage.PUBLIC_DISCUSSION,
        "На обсуждении": Stage.PUBLIC_DISCUSSION,
        "Muhokama yakunlangan": Stage.DISCUSSION_CLOSED,
        "Muhokama tugagan": Stage.DISCUSSION_CLOSED,
        "Муҳокама якунланган": Stage.DISCUSSION_CLOSED,
        "Обсуждение завершено": Stage.DISCUSSION_CLOSED,
        "Qabul qilingan": Stage.SIGNED,
        "Қабул қилинган": Stage.SIGNED,
        "Принят": Stage.SIGNED,
        "Qaytarib olingan": Stage.WITHDRAWN,
        "Қайтариб олинган": Stage.WITHDRAWN,
        "Отозван": Stage.WITHDRAWN,
        "Rad etilgan": Stage.REJECTED,
        "Рад этилган": Stage.REJECTED,
        "Отклонён": Stage.REJECTED,
        "Отклонен": Stage.REJECTED,
    }.items()
}

_LABELS: dict[str, str] = {
    norm(k): v
    for k, v in {
        "Muallif": "developer",
        "Муаллиф": "developer",
        "Разработчик": "developer",
        "Hujjat turi": "type",
        "Ҳужжат тури": "type",
        "Тип документа": "type",
        "Muhokama muddati": "period",
        "Муҳокама муддати": "period",
        "Срок обсуждения": "period",
        "Holati": "status",
        "Ҳолати": "status",
        "Статус": "status",
        "Muhokama holati": "status",
        "Статус обсуждения": "status",
    }.items()
}
_DRAFT = re.compile(r"^/(oz|uz|ru)/d/(\d{1,12})/?$")
_LANG = {"oz": "uz", "uz": "uz", "ru": "ru"}  # oz: Latin Uzbek, uz: Cyrillic Uzbek
# Listing cells (td) by position, after the public scraper: 1 title link, 3 developer,
# 4 document type, 5 publication date, 6 discussion end date.
_CELLS = {"developer": 3, "type": 4, "published": 5, "until": 6}


def _draft_id(url: str) -> tuple[str, str] | None:
    m = _DRAFT.match(urlsplit(url).path)
    return (m.group(1), m.group(2)) if m else None


def drafts_from_listing(html: str, base_url: str) -> Listing:
    """The listing's draft rows (the filter row and rows without a draft link are not drafts)
    and its next page (``rel=next``). Pure: tested offline."""
    sel = Selector(text=html)
    rows: list[Row] = []
    skipped: list[str] = []
    n = 0  # the draft rows' number, as a reader counts them
    for tr in sel.css("table tr"):
        cells = tr.css("td")
        if len(cells) < 7 or cells[0].css("input, select"):
            continue
        n += 1
        href = cells[1].css("a::attr(href)").get()
        url = urljoin(base_url, href.strip()) if href else ""
        if not url or _draft_id(url) is None:
            skipped.append(
                f"{PORTAL}: {base_url}: table row {n} has no draft link (/{{lang}}/d/{{id}})"
            )
            continue
        fields = {
            name: " ".join(" ".join(cells[i].css("::text").getall()).split())
            for name, i in _CELLS.items()
        }
        title = " ".join(" ".join(cells[1].css("a ::text").getall()).split())
        rows.append(Row(url, title, {k: v for k, v in fields.items() if v and v != "—"}))
    nxt = sel.css("a[rel=next]::attr(href)").get()
    return Listing(rows, urljoin(base_url, nxt) if nxt else None, skipped)


# the labelled fields heading a draft's text (key, label), in this order
_HEAD = (
    ("status", "Status"),
    ("period", "Discussion"),
    ("developer", "Developer"),
    ("type", "Type"),
)


def draft_from_page(html: str, url: str, row: Row | None = None) -> Page:
    """One draft page → its Document's fields and InstrumentFacts; the listing row fills what
    the page lacks. Raises ExtractError naming the page and what is missing."""
    ids = _draft_id(url)
    if ids is None:
        raise missing(PORTAL, url, "draft id in the URL (/{lang}/d/{id})")
    prefix, draft_id = ids
    sel = Selector(text=html)
    title = " ".join(" ".join(sel.css("h1.document_title ::text, h1 ::text").getall()).split())
    title = title or (row.title if row else "")
    if not title:
        raise missing(PORTAL, url, "draft title (h1.document_title)")
    info = sel.css("div.document_info").get() or ""
    fields = dict(row.fields) if row else {}
    fields.update(labelled_fields(info, _LABELS))
    body = "\n\n".join(html_to_text(t) for t in sel.css("div.tab_content_in").getall())
    if not body.strip():
        raise missing(PORTAL, url, "draft text (div.tab_content_in)")
    period = days(fields.get("period", ""))  # "20/11/2026 - 05/12/2026", any dash
    start_day = (period[0] if period else None) or day(fields.get("published", ""))
    end_day = (period[1] if len(period) > 1 else None) or day(fields.get("until", ""))
    return consultation_page(
        portal=PORTAL,
        module="uz_regulation",
        jurisdiction="uz",
        url=url,
        draft_id=draft_id,
        title=title,
        lang=_LANG[prefix],
        fields=fields,
        labels=_HEAD,
        body=body,
        start=start_day,
        end=end_day,
        stages=STATUS_STAGES,
    )


@register("uz-regulation")
class UzRegulationSpider(PortalSpider):
    """Listing table → draft pages; listing pages through ``rel=next`` up to ``max_pages``."""

    portal = PORTAL

    def read_listing(self, response: Response) -> Listing:
        return drafts_from_listing(self.page_html(response), response.url)

    def read_page(self, response: Response, row: Row) -> Page:
        return draft_from_page(self.page_html(response), response.url, row)
