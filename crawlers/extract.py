"""Pure extraction from saved bytes: HTML to text, listing links, article fields.

Nothing here touches the network, so every function is tested offline against pages the
team wrote.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import charset_normalizer
import lxml.html
from lxml import etree
from parsel import Selector
from w3lib.encoding import html_to_unicode

from regwatch.crawlers.decode import LIKELY_ENCODINGS
from regwatch.crawlers.main_text import MainText, main_text
from regwatch.errors import ExtractError

__all__ = [
    "Article",
    "article_from_page",
    "decode_html",
    "html_to_text",
    "known_date_shape",
    "links_from_listing",
    "parse_date",
]

_BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "section",
    "article",
    "blockquote",
    "pre",
    "header",
    "footer",
    "dd",
    "dt",
    "figcaption",
}
_DROP = ("script", "style", "noscript", "template", "iframe", "object", "svg")
MAX_LISTING_LINKS = 10_000
_DMY = re.compile(r"\b(\d{1,2})[./](\d{1,2})[./](\d{4})\b")


@dataclass(frozen=True)
class Article:
    url: str
    title: str
    text: str
    published: datetime | None
    lang: str | None


# Encodings an undeclared page from the region is likely to be in; detection picks among them.
_LIKELY_ENCODINGS = LIKELY_ENCODINGS
_SNIFF_BYTES = 64 * 1024


def _sniff_encoding(body: bytes) -> str | None:
    """For pages that declare nothing: UTF-8 if it decodes, else the likeliest of the region's
    legacy encodings (windows-1251, KOI8-R, …) judged on the first 64 KiB."""
    sample = body[:_SNIFF_BYTES]
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:  # a character cut by the sample's end
            return "utf-8"
    best = charset_normalizer.from_bytes(sample, cp_isolation=_LIKELY_ENCODINGS).best()
    return best.encoding if best is not None else None


def decode_html(body: bytes, charset: str | None = None) -> str:
    """Decode with the header charset, a BOM, or <meta charset> (windows-1251, KOI8-R, …);
    a page that declares nothing is sniffed among the region's encodings."""
    header = f"text/html; charset={charset}" if charset else None
    _encoding, text = html_to_unicode(header, body, auto_detect_fun=_sniff_encoding)
    return text


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment or page, one line per block element."""
    if not html.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return html
    etree.strip_elements(root, *_DROP, with_tail=False)
    return _text_with_tails(root)


def _text_with_tails(el: lxml.html.HtmlElement) -> str:
    out: list[str] = []

    def walk(node: lxml.html.HtmlElement) -> None:
        block = isinstance(node.tag, str) and node.tag in _BLOCK
        if block:
            out.append("\n")
        if isinstance(node.tag, str) and node.text:
            out.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                out.append(child.tail)
        if block:
            out.append("\n")

    walk(el)
    lines = (" ".join(line.split()) for line in "".join(out).split("\n"))
    return "\n".join(line for line in lines if line)


def links_from_listing(html: str, base_url: str, selector: str) -> list[str]:
    """Absolute http(s) links of the elements matching ``selector``, in page order, once each."""
    sel = Selector(text=html)
    try:
        hrefs = sel.css(selector).xpath("(@href | .//a/@href)").getall()
    except Exception as exc:  # cssselect raises several types on a bad selector
        raise ExtractError(f"extract: bad link_selector {selector!r}: {exc}") from None
    seen: dict[str, None] = {}
    for href in hrefs[:MAX_LISTING_LINKS]:  # a hostile page of a million links is not read out
        url = urljoin(base_url, href.strip())
        if urlsplit(url).scheme in ("http", "https"):
            seen.setdefault(url.split("#", 1)[0], None)
    return list(seen)


_ISO_SHAPE = re.compile(r"^\s*\d{4}-\d{1,2}-\d{1,2}")


def known_date_shape(value: str) -> bool:
    """Whether :func:`parse_date` reads this shape of date (ISO 8601, RFC 822, ``18.11.2026``)
    — so None from it means the date cannot exist, not that the shape is unknown."""
    return bool(
        _ISO_SHAPE.match(value) or email.utils.parsedate_tz(value.strip()) or _DMY.search(value)
    )


def parse_date(value: str) -> datetime | None:
    """ISO 8601 (``2026-11-18``, ``2026-11-18T09:30:00+05:00``), RFC 822 (``Wed, 18 Nov 2026
    09:30:00 +0500``) or ``18.11.2026``; UTC-aware. None for a day that does not exist
    (``2025-02-29``): never moved to another day."""
    value = value.strip()
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        if _ISO_SHAPE.match(value):
            return None
        if email.utils.parsedate_tz(value):
            try:
                dt = email.utils.parsedate_to_datetime(value)
            except (ValueError, TypeError, OverflowError):
                return None
        else:
            m = _DMY.search(value)
            if not m:
                return None
            try:
                dt = datetime(int(m.group(3)), int(m.group(2)), int(m.group(1)))
            except ValueError:
                return None
    try:
        return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59-05:00 is past datetime.max in UTC
        return None


def article_from_page(
    html: str,
    url: str,
    *,
    title_selector: str = "",
    text_selector: str = "",
    date_selector: str = "",
) -> Article:
    """Title, body text, date and declared language of one article page.

    Each field comes from its CSS selector when one is given, else from automatic main-text
    extraction (trafilatura), else (title) from ``<title>``.
    """
    sel = Selector(text=html)
    auto: MainText | None = None
    if not (title_selector and text_selector and date_selector):
        auto = main_text(html, url)
    try:
        title = ""
        if title_selector:
            title = " ".join(" ".join(sel.css(title_selector).css("::text").getall()).split())
        bodies = sel.css(text_selector).getall() if text_selector else []
        date_el = sel.css(date_selector) if date_selector else None
    except Exception as exc:
        raise ExtractError(f"extract: bad selector for {url}: {exc}") from None
    if not title and auto is not None:
        title = auto.title
    if not title:
        title = " ".join((sel.css("title::text").get() or "").split())
    if text_selector:
        text = "\n".join(html_to_text(b) for b in bodies).strip()
        if not text:
            raise ExtractError(
                f"extract: {url} has no text under {text_selector!r}; "
                "check the source's text_selector against the page"
            )
    else:
        text = auto.text if auto is not None else ""
        if not text:
            raise ExtractError(
                f"extract: {url}: no main text found automatically; "
                "set the source's text_selector to the CSS selector of the article body"
            )
    published = None
    if date_el:
        raw = date_el.attrib.get("datetime") or " ".join(date_el.css("::text").getall())
        published = parse_date(raw)
    elif auto is not None:
        published = auto.published
    lang = (sel.xpath("/html/@lang").get() or "").split("-")[0].lower() or None
    return Article(url=url, title=title, text=text, published=published, lang=lang)
