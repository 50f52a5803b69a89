"""koomtalkuu.gov.kg — Kyrgyzstan's single portal for public discussion of draft legal acts
(Russian at ``/ru``, Kyrgyz at ``/kg``).

The listing's draft links (``/{ru|kg}/projects/{id}``) lead to draft pages whose labelled
fields — developer, act type, discussion period, status — are found by their Russian or
Kyrgyz labels (not by CSS classes), and whose text is the draft's. Each draft becomes one
Document carrying :class:`InstrumentFacts`: portal id, kind, title, language, developer, stage
(the status through :data:`STATUS_STAGES`) and the discussion period. Listing pages are
followed through ``rel=next`` up to ``max_pages``.

Nobody here has seen the live portal: its structure is not documented publicly (SOURCES.md).
The URL scheme, labels and status wording are the team's guess, written in
``tests/crawlers/spiders/data/kg_koomtalkuu/``; all of it is unverified against the live site.
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
    days,
    labelled_fields,
    link_rows,
    norm,
)
from regwatch.instruments.vocabulary import Stage

__all__ = ["STATUS_STAGES", "KgKoomtalkuuSpider", "draft_from_page", "drafts_from_listing"]

PORTAL = "koomtalkuu.gov.kg"

STATUS_STAGES: dict[str, Stage | None] = {
    norm(k): v
    for k, v in {
        "Идет обсуждение": Stage.PUBLIC_DISCUSSION,
        "Идёт обсуждение": Stage.PUBLIC_DISCUSSION,
        "На обсуждении": Stage.PUBLIC_DISCUSSION,
        "На общественном обсуждении": Stage.PUBLIC_DISCUSSION,
        "Талкууда": Stage.PUBLIC_DISCUSSION,
        "Талкуулоо жүрүүдө": Stage.PUBLIC_DISCUSSION,
        "Коомдук талкууда": Stage.PUBLIC_DISCUSSION,
        "Обсуждение завершено": Stage.DISCUSSION_CLOSED,
        "Завершено": Stage.DISCUSSION_CLOSED,
        "Талкуулоо аяктады": Stage.DISCUSSION_CLOSED,
        "Аяктады": Stage.DISCUSSION_CLOSED,
        "Принят": Stage.SIGNED,
        "Кабыл алынды": Stage.SIGNED,
        "Отозван": Stage.WITHDRAWN,
        "Кайра чакыртылды": Stage.WITHDRAWN,
        "Отклонен": Stage.REJECTED,
        "Отклонён": Stage.REJECTED,
        "Четке кагылды": Stage.REJECTED,
    }.items()
}

_LABELS: dict[str, str] = {
    norm(k): v
    for k, v in {
        "Разработчик": "developer",
        "Государственный орган-разработчик": "developer",
        "Иштеп чыгуучу": "developer",
        "Вид НПА": "type",
        "Вид акта": "type",
        "ЧУА түрү": "type",
        "Актынын түрү": "type",
        "Срок обсуждения": "period",
        "Период обсуждения": "period",
        "Талкуулоо мөөнөтү": "period",
        "Статус": "status",
        "Статусу": "status",
        "Абалы": "status",
    }.items()
}
_DRAFT = re.compile(r"^/(ru|kg)/projects/(\d{1,12})/?$")
_LANG = {"ru": "ru", "kg": "ky"}


def drafts_from_listing(html: str, base_url: str) -> Listing:
    """The listing's drafts (one row per draft link, its labelled fields) and its next page.
    Pure: tested offline."""
    rows = [
        Row(url, title, labelled_fields(row_html, _LABELS))
        for url, title, row_html in link_rows(html, base_url, _DRAFT)
        if title
    ]
    nxt = Selector(text=html).css("a[rel=next]::attr(href)").get() if html.strip() else None
    return Listing(rows, urljoin(base_url, nxt) if nxt else None)


# the labelled fields heading a draft's text (key, label), in this order
_HEAD = (
    ("status", "Статус"),
    ("period", "Срок обсуждения"),
    ("developer", "Разработчик"),
    ("type", "Вид НПА"),
)


def draft_from_page(html: str, url: str, row: Row | None = None) -> Page:
    """One draft page → its Document's fields and InstrumentFacts (the listing row fills what
    the page lacks). Raises ExtractError naming the page and what is missing."""
    m = _DRAFT.match(urlsplit(url).path)
    if m is None:
        raise missing(PORTAL, url, "draft id in the URL (/{ru|kg}/projects/{id})")
    prefix, draft_id = m.groups()
    sel = Selector(text=html)
    title = " ".join(" ".join(sel.css("h1 ::text").getall()).split()) or (row.title if row else "")
    if not title:
        raise missing(PORTAL, url, "draft title (h1)")
    fields = dict(row.fields) if row else {}
    fields.update(labelled_fields(sel.css("main").get() or html, _LABELS))
    if "status" not in fields and "period" not in fields:
        raise missing(PORTAL, url, "status or discussion period (labelled fields)")
    body = "\n\n".join(html_to_text(t) for t in sel.css("div.project-text").getall()).strip()
    if not body:
        raise missing(PORTAL, url, "draft text (div.project-text)")
    period = days(fields.get("period", ""))
    start = period[0] if period else None
    end = period[1] if len(period) > 1 else None
    return consultation_page(
        portal=PORTAL,
        module="kg_koomtalkuu",
        jurisdiction="kg",
        url=url,
        draft_id=draft_id,
        title=title,
        lang=_LANG[prefix],
        fields=fields,
        labels=_HEAD,
        body=body,
        start=start,
        end=end,
        stages=STATUS_STAGES,
    )


@register("kg-koomtalkuu")
class KgKoomtalkuuSpider(PortalSpider):
    """Listing cards → draft pages; listing pages through ``rel=next`` up to ``max_pages``."""

    portal = PORTAL

    def read_listing(self, response: Response) -> Listing:
        return drafts_from_listing(self.page_html(response), response.url)

    def read_page(self, response: Response, row: Row) -> Page:
        return draft_from_page(self.page_html(response), response.url, row)
