"""Feeds: bytes → feedparser (after an XML-entity check) → Documents.

feedparser's loose parser expands XML entities without limit, so a body declaring entities is
refused before feedparser sees it. feedparser always gets bytes in ``io.BytesIO`` — never a
URL (it would fetch it itself, past our fetch rules) and never a str.
"""

from __future__ import annotations

import calendar
import io
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import defusedxml.ElementTree as DET
import feedparser
from defusedxml import DefusedXmlException

from regwatch.crawlers.decode import decode_text
from regwatch.crawlers.document import Document, clean_text
from regwatch.crawlers.exchange import Capture
from regwatch.crawlers.extract import html_to_text, known_date_shape, parse_date
from regwatch.errors import FeedError

__all__ = ["FeedResult", "check_xml_safety", "distinct_identities", "parse_feed"]

# feedparser flags these as "bozo" though the feed itself is well-formed.
_BENIGN = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)
_ENTITY_DECLS = tuple(
    re.compile(re.escape("<!ENTITY".encode(enc)), re.I)
    for enc in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


@dataclass(frozen=True)
class FeedResult:
    title: str
    documents: list[Document]
    skipped: list[str] = field(default_factory=list)
    ttl_seconds: float | None = None  # how long the feed says it may be cached (<ttl>, sy:)
    # What the source's health should say though the poll worked: bytes replaced, a cut feed.
    warnings: list[str] = field(default_factory=list)
    truncated: bool = False  # cut mid-stream: only its complete items are here


class _ItemCounter:
    """An XML parser target counting the items (RSS ``item``, Atom ``entry``) that closed."""

    def __init__(self) -> None:
        self.items = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        pass

    def end(self, tag: str) -> None:
        if tag.rsplit("}", 1)[-1] in ("item", "entry"):
            self.items += 1

    def data(self, data: str) -> None:
        pass

    def close(self) -> int:
        return self.items


def check_xml_safety(body: bytes, url: str) -> int | None:
    """Refuse entity declarations and external references (billion laughs, XXE). Return the
    number of complete items when the document ends early (cut mid-stream), else None."""
    counter = _ItemCounter()
    parser = DET.XMLParser(
        target=counter, forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(body)
    except DefusedXmlException as exc:
        raise FeedError(
            f"feeds: {url} declares XML entities or external references ({type(exc).__name__}); "
            "refused to protect the parser — ask the publisher to fix the feed"
        ) from None
    except (ET.ParseError, ValueError, LookupError):
        # Malformed XML is left to feedparser's loose parser, but never with entity declarations
        # (looked for in UTF-8/ASCII and both byte orders of UTF-16 and UTF-32, which expat
        # cannot read but feedparser decodes itself).
        if any(p.search(body) for p in _ENTITY_DECLS):
            raise FeedError(
                f"feeds: {url} is malformed XML that declares entities; refused"
            ) from None
        return None
    try:
        parser.close()
    except (ET.ParseError, ValueError, LookupError):
        return counter.items  # every byte read well, but the document never ended: cut off
    return None


_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


def _safe_char_ref(m: re.Match[bytes]) -> bytes:
    """Character references to surrogates, controls or past U+10FFFF become U+FFFD: feedparser
    raises on some of them instead of flagging the feed, losing every item."""
    code = int(m.group(1), 16) if m.group(1) else int(m.group(2))
    bad = 0xD800 <= code <= 0xDFFF or code > 0x10FFFF or (code < 0x20 and code not in (9, 10, 13))
    return b"&#xFFFD;" if bad else m.group(0)


def parse_feed(
    body: bytes,
    url: str,
    source: str,
    content_type: str = "",
    default_lang: str | None = None,
    capture: Capture | None = None,
) -> FeedResult:
    """Parse one feed body into Documents. Items without a usable title or text are skipped
    and named; an empty body is an error; a feed cut mid-stream gives its complete items.
    Every item carries ``capture``, the feed's one HTTP exchange (stored once)."""
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n"):
        raise FeedError(
            f"feeds: {url} answered with an empty body; check the URL, or ask the publisher "
            "why the feed is empty"
        )
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return _parse_json_feed(body, url, source, default_lang, capture)
    body, content_type, warnings = _as_utf8(body, url, content_type)
    complete = check_xml_safety(body, url)
    body = _CHAR_REF.sub(_safe_char_ref, body)
    headers = {"content-location": url, "content-type": content_type}
    try:
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=True)
    except Exception as exc:  # feedparser raises on some malformed references (&#xD800;)
        raise FeedError(
            f"feeds: {url} crashed the feed parser: {type(exc).__name__}: {exc}"
        ) from None
    entries: list[Any] = list(parsed.get("entries") or [])
    if complete is not None:
        if not complete:
            raise FeedError(
                f"feeds: {url} was cut off before its first complete item (truncated); "
                "nothing stored — it is read again on the next poll"
            )
        warnings.append(
            f"{url}: feed truncated after {complete} complete items; "
            f"{max(len(entries) - complete, 0)} cut item(s) left out"
        )
        entries = entries[:complete]
    # No items and a parse problem: an error, unless feedparser recognised the format (an
    # empty feed served without a Content-Type is still a feed).
    benign = isinstance(parsed.get("bozo_exception"), _BENIGN) and parsed.get("version")
    if not entries and parsed.get("bozo") and not benign:
        reason = parsed.get("bozo_exception")
        kind = "HTML, not a feed" if b"<html" in body[:2048].lower() else "not a readable feed"
        raise FeedError(
            f"feeds: {url} is {kind} ({reason}); check the URL, or point the source at the "
            'page\'s <link rel="alternate"> feed'
        )
    feed_meta = parsed.get("feed") or {}
    skipped: list[str] = []
    bozo = parsed.get("bozo") and not isinstance(parsed.get("bozo_exception"), _BENIGN)
    if bozo and complete is None:
        skipped.append(
            f"feed is malformed ({parsed.get('bozo_exception')}); {len(entries)} items read anyway"
        )
    feed_lang = _lang(feed_meta.get("language")) or default_lang
    documents: list[Document] = []
    for i, entry in enumerate(entries):
        try:
            documents.append(_document(entry, url, source, feed_lang, capture))
        except (ValueError, OverflowError) as exc:
            skipped.append(f"item {i + 1}: {exc}")
    return FeedResult(
        title=clean_text(str(feed_meta.get("title") or "")).replace("\n", " "),
        documents=distinct_identities(documents),
        skipped=skipped,
        ttl_seconds=feed_ttl(feed_meta),
        warnings=warnings,
        truncated=complete is not None,
    )


_ENCODING_DECL = re.compile(r"""^(\s*<\?xml[^>]{0,200}?encoding\s*=\s*)["'][^"']*["']""")


def _as_utf8(body: bytes, url: str, content_type: str) -> tuple[bytes, str, list[str]]:
    """The body re-encoded as UTF-8 (declared so), the Content-Type saying so, and a note on
    the bytes that could not be read — so feedparser never guesses a code page for it all."""
    decoded = decode_text(body, content_type)
    text = _ENCODING_DECL.sub(r'\1"utf-8"', decoded.text, count=1)
    media = content_type.split(";", 1)[0].strip() or "application/xml"
    note = decoded.note(url)
    return text.encode("utf-8"), f"{media}; charset=utf-8", [note] if note else []


_PERIODS = {
    "hourly": 3600,
    "daily": 86400,
    "weekly": 7 * 86400,
    "monthly": 30 * 86400,
    "yearly": 365 * 86400,
}


def feed_ttl(feed_meta: Any) -> float | None:
    """Seconds a feed asks to be left alone: RSS ``<ttl>`` (minutes), else the syndication
    module's ``sy:updatePeriod`` / ``sy:updateFrequency``. None when it says nothing usable."""
    ttl = str(feed_meta.get("ttl") or "").strip()
    if ttl.isdigit() and len(ttl) < 9:
        return float(int(ttl) * 60)
    period = _PERIODS.get(str(feed_meta.get("sy_updateperiod") or "").strip().lower())
    if period is None:
        return None
    freq = str(feed_meta.get("sy_updatefrequency") or "1").strip()
    times = int(freq) if freq.isdigit() and len(freq) < 9 and int(freq) > 0 else 1
    return period / times


def _document(
    entry: Any, feed_url: str, source: str, feed_lang: str | None, capture: Capture | None
) -> Document:
    guid = str(entry.get("id") or "").strip() or None
    link = _web_url(entry.get("link"), guid)
    title = html_to_text(str(entry.get("title") or ""))
    html = ""
    content = entry.get("content") or []
    if content:
        html = "\n".join(str(c.get("value") or "") for c in content)
    if not html.strip():
        html = str(entry.get("summary") or "")
    text = html_to_text(html)
    published = None
    for key in ("published", "updated"):
        raw = dict.get(entry, key)  # not FeedParserDict's deprecated updated→published alias
        if raw:
            published = _entry_date(str(raw), dict.get(entry, f"{key}_parsed"))
            break
    lang = None
    if content:
        lang = _lang(content[0].get("language"))
    return _make_document(
        link, guid, feed_url, title, text, source, published, lang or feed_lang, capture
    )


def distinct_identities(docs: list[Document]) -> list[Document]:
    """Items of one feed that claim one identity but differ would take turns as the
    document's version on every poll: a guid shared by different items is no guid; items
    without one that share a link are known by their content."""
    contents: dict[str, set[str]] = {}
    for doc in docs:
        if doc.guid:
            contents.setdefault(doc.guid, set()).add(doc.content_hash)
    docs = [replace(d, guid=None) if d.guid and len(contents[d.guid]) > 1 else d for d in docs]
    links: dict[str, set[str]] = {}
    for doc in docs:
        if not doc.guid:
            links.setdefault(doc.canonical_url, set()).add(doc.content_hash)
    return [
        replace(d, guid=f"content:{d.content_hash}")
        if not d.guid and len(links[d.canonical_url]) > 1
        else d
        for d in docs
    ]


def _entry_date(raw: str, stamp: Any) -> datetime | None:
    """The item's date as written: one that cannot exist (29 February of a common year) is
    unknown, never moved to another day as feedparser's parsed form does. feedparser's form
    only for the shapes read here do not know. (Document settles epoch-zero and future.)"""
    if known_date_shape(raw):
        return parse_date(raw)
    try:
        return datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC) if stamp else None
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def _web_url(*candidates: object) -> str | None:
    for value in candidates:
        text = str(value or "").strip()
        if text.startswith(("http://", "https://")):
            return text
    return None


def _make_document(
    link: str | None,
    guid: str | None,
    feed_url: str,
    title: str,
    text: str,
    source: str,
    published: datetime | None,
    lang: str | None,
    capture: Capture | None = None,
) -> Document:
    """The one place a feed item becomes a Document, with the same rules for every format. An
    item without a link is kept under the feed's address, known by its guid or its content."""
    if not title and not text:
        raise ValueError(f"{link or guid or 'item'} has neither title nor text; skipped")
    doc = Document(
        url=link or feed_url,
        title=title,
        text=text,
        source=source,
        published=published,
        lang=lang,
        guid=guid,
        linked=link is not None,
        capture=capture,
    )
    try:
        doc.canonical_url  # noqa: B018 - validates host and port
    except ValueError as exc:
        raise ValueError(f"{doc.url} is not a valid URL ({exc}); skipped") from None
    return doc


def _parse_json_feed(
    body: bytes, url: str, source: str, default_lang: str | None, capture: Capture | None
) -> FeedResult:
    """JSON Feed 1.0/1.1 (jsonfeed.org), which feedparser 6.0 does not read."""
    decoded = decode_text(body)  # JSON is UTF-8 (RFC 8259); bad bytes become U+FFFD
    note = decoded.note(url)
    try:
        data = json.loads(decoded.text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FeedError(f"feeds: {url} is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise FeedError(f"feeds: {url} is JSON but not a JSON Feed (no jsonfeed.org version)")
    lang = _lang(data.get("language")) or default_lang
    documents: list[Document] = []
    skipped: list[str] = []
    raw_items = data.get("items")
    items: list[Any] = raw_items if isinstance(raw_items, list) else []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            skipped.append(f"item {i + 1}: not an object; skipped")
            continue
        try:
            guid = str(item.get("id") or "").strip() or None
            link = _web_url(item.get("url"), item.get("external_url"), guid)
            text = str(item.get("content_text") or "") or html_to_text(
                str(item.get("content_html") or item.get("summary") or "")
            )
            published = None
            for key in ("date_published", "date_modified"):
                if item.get(key):
                    published = parse_date(str(item[key]))
                    break
            title = html_to_text(str(item.get("title") or ""))
            item_lang = _lang(item.get("language")) or lang
            documents.append(
                _make_document(link, guid, url, title, text, source, published, item_lang, capture)
            )
        except (ValueError, OverflowError) as exc:
            skipped.append(f"item {i + 1}: {exc}")
    title = clean_text(str(data.get("title") or "")).replace("\n", " ")
    return FeedResult(
        title, distinct_identities(documents), skipped, warnings=[note] if note else []
    )


def _lang(value: Any) -> str | None:
    if not value:
        return None
    code = str(value).strip().lower().replace("_", "-").split("-")[0]
    return code if 2 <= len(code) <= 3 and code.isalpha() else None
