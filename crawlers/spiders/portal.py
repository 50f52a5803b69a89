"""What the draft-portal and legal-act-portal spiders share: a listing (an HTML table, cards or
an RSS index) gives rows; each row's page gives an :class:`~regwatch.instruments.vocabulary.
InstrumentFacts` on its Document. A page may name further pages of the same instrument — its
other language versions (lex.uz) or editions (adilet.zan.kz) — which are read the same way.

Each portal's module holds its own data (status → :class:`Stage` tables, field labels) and pure
parsing functions tested offline; this module holds the crawl around them and the helpers
they share: :func:`stage_of` (a status through a table), :func:`kind_of` (an act type's words →
one of KINDS), :func:`day` (the date formats the portals print) and :func:`missing` (the one
shape of a bad page's error). One bad row or page is recorded in ``skipped``; the rest go on.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree
from scrapy.http import Response

from regwatch.crawlers.document import Document
from regwatch.crawlers.extract import html_to_text
from regwatch.crawlers.spiders.generic import _EXTRACTION, ListingSpider
from regwatch.errors import ExtractError
from regwatch.instruments.vocabulary import InstrumentFacts, Stage

__all__ = [
    "Listing",
    "Page",
    "PortalSpider",
    "Row",
    "day",
    "days",
    "kind_of",
    "labelled_fields",
    "link_rows",
    "missing",
    "norm",
    "read_status",
    "stage_of",
    "unknown_status",
]

MAX_ROWS = 200  # rows read from one listing page; a hostile page of thousands is not walked
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


_PUNCT = re.compile(r"[\s\"'«»“”„.:;,!()\[\]-]+")


def norm(text: str) -> str:
    """A status or label as a table key: case-folded, apostrophe variants and punctuation to
    single spaces (Uzbek Latin writes o‘, o', oʻ alike)."""
    text = text.replace("ʻ", "'").replace("‘", "'").replace("’", "'").replace("ʼ", "'")
    return _PUNCT.sub(" ", text.casefold()).strip()


def unknown_status(portal: str, url: str, status: str, module: str) -> str:
    """The warning for a status no table knows: the document is kept, without a stage."""
    return (
        f"{portal}: {url}: status {status!r} maps to no stage; add it to STATUS_STAGES in "
        f"crawlers/spiders/{module}.py"
    )


def read_status(
    table: Mapping[str, Stage | None], status: str, portal: str, url: str, module: str
) -> tuple[Stage | None, tuple[str, ...]]:
    """The stage ``status`` names and, for a status the table does not know, a warning."""
    if not status:
        return None, ()
    stage = stage_of(table, status)
    key = norm(status)
    known = key in table or any(key.startswith(k + " ") for k in table)
    return stage, () if known else (unknown_status(portal, url, status, module),)


def stage_of(table: Mapping[str, Stage | None], status: str) -> Stage | None:
    """The Stage a portal's status names, through its table (keys already :func:`norm`-ed).
    An exact key wins; else the longest key the status starts with ("Архив (2025)"). None for
    a status the table does not know or marks as having no stage."""
    key = norm(status)
    if key in table:
        return table[key]
    best = max((k for k in table if key.startswith(k + " ")), key=len, default=None)
    return table[best] if best is not None else None


# Words that name an act's kind, in the region's languages (lower case, matched as a word
# prefix: "закона", "qonuni", "заңының" all start with their stem). The earliest word in the
# text decides: "Проект Закона «О внесении изменений в Кодекс»" is a law.
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "code": ("кодекс", "kodeks", "code"),
    "law": ("закон", "заң", "qonun", "қонун", "мыйзам", "law"),
    "decree": ("указ", "жарлық", "жарлык", "farmon", "фармон", "decree"),
    "resolution": ("постановлен", "қаулы", "qaror", "қарор", "токтом", "resolution"),
    "order": ("приказ", "бұйрық", "buyruq", "буйруқ", "буйрук", "order"),
    "concept": ("концепц", "тұжырымдама", "konsepsiya", "концепсия", "concept"),
    "strategy": ("стратеги", "strategiya", "strategy"),
    "programme": ("программ", "бағдарлама", "dastur", "дастур", "programme"),
    "agreement": ("соглашени", "келісім", "kelishuv", "келишув", "agreement", "договор"),
}
_KIND_RE = re.compile(
    "|".join(
        rf"(?<![\w])(?P<{kind}>{'|'.join(re.escape(w) for w in words)})"
        for kind, words in KIND_WORDS.items()
    ),
    re.IGNORECASE,
)


def kind_of(text: str) -> str | None:
    """The act's kind (one of KINDS) from its type or title, by the earliest kind word."""
    m = _KIND_RE.search(text)
    return m.lastgroup if m is not None else None


_MONTHS: dict[str, int] = {}
for _n, _stems in enumerate(
    (
        ("январ", "қаңтар", "yanvar", "январ"),
        ("феврал", "ақпан", "fevral"),
        ("март", "наурыз", "mart"),
        ("апрел", "сәуір", "aprel"),
        ("мая", "май", "мамыр", "may"),
        ("июн", "маусым", "iyun", "июн"),
        ("июл", "шілде", "iyul"),
        ("август", "тамыз", "avgust"),
        ("сентябр", "қыркүйек", "sentabr", "sentyabr"),
        ("октябр", "қазан", "oktabr", "oktyabr"),
        ("ноябр", "қараша", "noyabr"),
        ("декабр", "желтоқсан", "dekabr"),
    ),
    start=1,
):
    for _stem in _stems:
        _MONTHS.setdefault(_stem, _n)
_NUMERIC = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b")
_WORDY_DMY = re.compile(r"\b(\d{1,2})\s+([^\W\d_]{3,12})\s+(\d{4})\b")  # 20 ноября 2026
_WORDY_YDM = re.compile(r"\b(\d{4})\s+(?:жылғы|йил|yil)\s+(\d{1,2})\s*-?\s*([^\W\d_]{3,14})")


def _month(word: str) -> int | None:
    word = word.casefold()
    for stem in sorted(_MONTHS, key=len, reverse=True):
        if word.startswith(stem):
            return _MONTHS[stem]
    return None


def _safe(y: int, m: int | None, d: int) -> date | None:
    try:
        return date(y, m, d) if m else None
    except ValueError:
        return None


def day(text: str) -> date | None:
    """The first date in ``text``: 05.12.2026, 05/12/2026, 2026-12-05, «20 ноября 2026»,
    «2026 жылғы 20 қарашадағы», «2026 йил 20 ноябрь». None when there is none (or it is
    impossible, like 31.02)."""
    found: list[tuple[int, date | None]] = []
    if m := _NUMERIC.search(text):
        if m.group(1):
            found.append((m.start(), _safe(int(m[3]), int(m[2]), int(m[1]))))
        else:
            found.append((m.start(), _safe(int(m[4]), int(m[5]), int(m[6]))))
    if m := _WORDY_DMY.search(text):
        found.append((m.start(), _safe(int(m[3]), _month(m[2]), int(m[1]))))
    if m := _WORDY_YDM.search(text):
        found.append((m.start(), _safe(int(m[1]), _month(m[3]), int(m[2]))))
    for _pos, when in sorted(found, key=lambda f: f[0]):
        if when is not None:
            return when
    return None


def days(text: str) -> list[date]:
    """Every numeric date in ``text`` in order (a period "с 15.11.2026 по 15.12.2026")."""
    found = []
    for m in _NUMERIC.finditer(text):
        if m.group(1):
            when = _safe(int(m[3]), int(m[2]), int(m[1]))
        else:
            when = _safe(int(m[4]), int(m[5]), int(m[6]))
        if when is not None:
            found.append(when)
    return found


def midnight(when: date | None) -> datetime | None:
    return datetime(when.year, when.month, when.day, tzinfo=UTC) if when else None


_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_KAZAKH = re.compile(r"[әғқңөұүһі]", re.IGNORECASE)
_KYRGYZ = re.compile(r"[ңөү]", re.IGNORECASE)


def script_lang(text: str, cyrillic: str, latin: str | None = None) -> str | None:
    """``cyrillic`` or ``latin`` by the letters ``text`` is written in."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    share = sum(1 for c in letters if _CYRILLIC.match(c)) / len(letters)
    return cyrillic if share >= 0.5 else latin


def kk_or_ru(text: str) -> str:
    return "kk" if _KAZAKH.search(text) else "ru"


def ky_or_ru(text: str) -> str:
    return "ky" if _KYRGYZ.search(text) else "ru"


def rss_items(body: bytes, portal: str, url: str) -> list[dict[str, str]]:
    """An RSS 2.0 index's items as {link, title, description, pubDate} (what is present)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise ExtractError(f"{portal}: {url} is not a readable RSS index: {exc}") from None
    if root.tag != "rss":
        raise ExtractError(f"{portal}: {url} is not an RSS index (root <{root.tag}>)")
    items = []
    for item in root.iter("item"):
        items.append(
            {
                child.tag: " ".join((child.text or "").split())
                for child in item
                if isinstance(child.tag, str) and child.tag in _RSS_FIELDS
            }
        )
        if len(items) >= MAX_ROWS:
            break
    return items


_RSS_FIELDS = ("link", "title", "description", "pubDate", "guid")
_LINE = re.compile(r"^\s*([^:]{2,60}?)\s*:\s*(.*?)\s*$")


def labelled_fields(html: str, labels: Mapping[str, str]) -> dict[str, str]:
    """Values found by their labels in an HTML fragment: "Label: value" on one line, or the
    label's line and the value on the next (a label and its value in two block elements).
    ``labels`` maps a :func:`norm`-ed label to a field name; the first value of a field wins."""
    lines = [line for line in html_to_text(html).splitlines() if line.strip()]
    fields: dict[str, str] = {}
    for i, line in enumerate(lines):
        m = _LINE.match(line)
        label, value = (m.group(1), m.group(2)) if m else (line, "")  # <dt>Label</dt>
        key = labels.get(norm(label))
        if key is None or key in fields:
            continue
        if not value and i + 1 < len(lines):
            following = lines[i + 1]
            if not _LINE.match(following) and norm(following) not in labels:
                value = following.strip()
        if value:
            fields[key] = value
    return fields


def link_rows(html: str, base_url: str, pattern: re.Pattern[str]) -> list[tuple[str, str, str]]:
    """(url, link text, row HTML) for each link whose URL path matches ``pattern``, in page
    order, once per URL; a link's row is its farthest ancestor holding no other such link."""
    root = lxml.html.fromstring(html) if html.strip() else None
    if root is None:
        return []
    links = []
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        url = urljoin(base_url, href).split("#", 1)[0] if href else ""
        if url and pattern.search(urlsplit(url).path):
            links.append((a, url))
        if len(links) >= MAX_ROWS:
            break
    elements = {a for a, _ in links}
    found: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for a, url in links:
        if url in seen:
            continue
        seen.add(url)
        row = a
        for parent in a.iterancestors():
            if parent.tag in ("body", "html") or any(
                el in elements and el is not a for el in parent.iter("a")
            ):
                break
            row = parent
        text = " ".join(a.text_content().split())
        found.append((url, text, lxml.html.tostring(row, encoding="unicode", with_tail=False)))
    return found


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
        )
        if row.related:  # a related page's own related pages are the same set: not chained
            return
        for url in page.related[:MAX_RELATED]:
            request = self.page_request(Row(url, page.title, row.fields, related=True))
            if request is not None:
                yield request
