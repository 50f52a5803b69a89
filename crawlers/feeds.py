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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import defusedxml.ElementTree as DET
import feedparser
from defusedxml import DefusedXmlException

from regwatch.crawlers.document import Document, clean_text
from regwatch.crawlers.extract import html_to_text, parse_date
from regwatch.errors import FeedError

__all__ = ["FeedResult", "check_xml_safety", "parse_feed"]

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


def check_xml_safety(body: bytes, url: str) -> None:
    """Refuse entity declarations and external references (billion laughs, XXE)."""
    try:
        DET.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
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
) -> FeedResult:
    """Parse one feed body into Documents; items without a usable link are skipped and named."""
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return _parse_json_feed(body, url, source, default_lang)
    check_xml_safety(body, url)
    body = _CHAR_REF.sub(_safe_char_ref, body)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    try:
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=True)
    except Exception as exc:  # feedparser raises on some malformed references (&#xD800;)
        raise FeedError(
            f"feeds: {url} crashed the feed parser: {type(exc).__name__}: {exc}"
        ) from None
    entries: list[Any] = list(parsed.get("entries") or [])
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
    if parsed.get("bozo") and not isinstance(parsed.get("bozo_exception"), _BENIGN):
        skipped.append(
            f"feed is malformed ({parsed.get('bozo_exception')}); {len(entries)} items read anyway"
        )
    feed_lang = _lang(feed_meta.get("language")) or default_lang
    documents: list[Document] = []
    for i, entry in enumerate(entries):
        try:
            documents.append(_document(entry, url, source, feed_lang))
        except (ValueError, OverflowError) as exc:
            skipped.append(f"item {i + 1}: {exc}")
    return FeedResult(
        title=clean_text(str(feed_meta.get("title") or "")).replace("\n", " "),
        documents=documents,
        skipped=skipped,
        ttl_seconds=feed_ttl(feed_meta),
    )


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


def _document(entry: Any, feed_url: str, source: str, feed_lang: str | None) -> Document:
    link = _first_web_url(entry.get("link"), entry.get("id"))
    title = html_to_text(str(entry.get("title") or ""))
    html = ""
    content = entry.get("content") or []
    if content:
        html = "\n".join(str(c.get("value") or "") for c in content)
    if not html.strip():
        html = str(entry.get("summary") or "")
    text = html_to_text(html)
    published = None
    for key in ("published_parsed", "updated_parsed"):
        stamp = dict.get(entry, key)  # not FeedParserDict's deprecated updated→published alias
        if stamp:
            published = _plausible(stamp)
            break
    lang = None
    if content:
        lang = _lang(content[0].get("language"))
    return _make_document(link, title, text, source, published, lang or feed_lang)


# A date further ahead than this is a feed's mistake (or 9999-12-31), not a publication date.
_FUTURE_SLACK = timedelta(days=2)


def _plausible(stamp: Any) -> datetime | None:
    """feedparser's parsed date as an aware datetime; None when it cannot be one (out of range)
    or is implausibly far in the future. A bad date never costs the item."""
    try:
        when = datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None
    return None if when > datetime.now(UTC) + _FUTURE_SLACK else when


def _first_web_url(*candidates: object) -> str:
    for value in candidates:
        text = str(value or "").strip()
        if text.startswith(("http://", "https://")):
            return text
    raise ValueError("no http(s) link or id; skipped")


def _make_document(
    link: str, title: str, text: str, source: str, published: datetime | None, lang: str | None
) -> Document:
    """The one place a feed item becomes a Document, with the same skip rules for every format."""
    if not title and not text:
        raise ValueError(f"{link} has neither title nor text; skipped")
    doc = Document(url=link, title=title, text=text, source=source, published=published, lang=lang)
    try:
        doc.canonical_url  # noqa: B018 - validates host and port
    except ValueError as exc:
        raise ValueError(f"{link} is not a valid URL ({exc}); skipped") from None
    return doc


def _parse_json_feed(body: bytes, url: str, source: str, default_lang: str | None) -> FeedResult:
    """JSON Feed 1.0/1.1 (jsonfeed.org), which feedparser 6.0 does not read."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
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
            link = _first_web_url(item.get("url"), item.get("external_url"), item.get("id"))
            text = str(item.get("content_text") or "") or html_to_text(
                str(item.get("content_html") or item.get("summary") or "")
            )
            published = None
            for key in ("date_published", "date_modified"):
                if item.get(key):
                    published = parse_date(str(item[key]))
                    if published and published > datetime.now(UTC) + _FUTURE_SLACK:
                        published = None
                    break
            title = html_to_text(str(item.get("title") or ""))
            item_lang = _lang(item.get("language")) or lang
            documents.append(_make_document(link, title, text, source, published, item_lang))
        except (ValueError, OverflowError) as exc:
            skipped.append(f"item {i + 1}: {exc}")
    title = clean_text(str(data.get("title") or "")).replace("\n", " ")
    return FeedResult(title=title, documents=documents, skipped=skipped)


def _lang(value: Any) -> str | None:
    if not value:
        return None
    code = str(value).strip().lower().replace("_", "-").split("-")[0]
    return code if 2 <= len(code) <= 3 and code.isalpha() else None
