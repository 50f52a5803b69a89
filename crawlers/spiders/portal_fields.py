"""Pure helpers the portal spiders share to read a portal's fields: :func:`norm` (a status or
label as a table key), :func:`stage_of`/:func:`read_status` (a status through a module's
``STATUS_STAGES`` table), :func:`kind_of` (an act type's words in ru/kk/uz/ky/en → one of
KINDS), :func:`day`/:func:`days` (the date formats the portals print), :func:`labelled_fields`
(values found by their labels), :func:`link_rows` (a listing's rows around their links) and
:func:`rss_items`. Nothing here touches the network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from regwatch.crawlers.extract import html_to_text
from regwatch.errors import ExtractError
from regwatch.instruments.vocabulary import Stage

__all__ = [
    "KIND_WORDS",
    "MAX_ROWS",
    "day",
    "days",
    "kind_of",
    "kk_or_ru",
    "labelled_fields",
    "link_rows",
    "midnight",
    "norm",
    "read_status",
    "rss_items",
    "stage_of",
    "unknown_status",
]

MAX_ROWS = 200  # rows read from one listing page; a hostile page of thousands is not walked


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
_NUMERIC = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})(?!\d)")
_WORDY_DMY = re.compile(r"\b(\d{1,2})\s+([^\W\d_]{3,12})\s+(\d{4})\b")  # 20 ноября 2026
_WORDY_YDM = re.compile(r"\b(\d{4})\s*-?\s*(?:жылғы|йил|yil)\s+(\d{1,2})\s*-?\s*([^\W\d_]{3,14})")


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


_KAZAKH = re.compile(r"[әғқңөұүһі]", re.IGNORECASE)


def kk_or_ru(text: str) -> str:
    return "kk" if _KAZAKH.search(text) else "ru"


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
