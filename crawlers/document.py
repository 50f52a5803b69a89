"""The one shape every crawler produces and ``pipeline.ingest()`` consumes — and the one
outcome of collecting a source (feed or crawl) that carries them."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from regwatch.crawlers.exchange import Capture
from regwatch.crawlers.politeness import Validators
from regwatch.instruments.vocabulary import InstrumentFacts

__all__ = [
    "FUTURE_SKEW",
    "Collected",
    "Document",
    "canonical_url",
    "clean_text",
    "content_hash",
    "plausible_date",
]

_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|yclid|mc_cid|mc_eid|_ga|ref)$", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\ufeff\ud800-\udfff]")
_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANKLINES = re.compile(r"\n\s*\n+")


@dataclass(frozen=True)
class Document:
    """An article as collected, before dedupe and flagging."""

    url: str
    title: str
    text: str = field(repr=False)  # a page's text makes a useless, costly repr
    source: str  # the configured source's name: ingest() stores the document under it
    published: datetime | None = None
    lang: str | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    guid: str | None = None  # the item's own id in its source (a feed's guid / Atom id)
    linked: bool = True  # False: ``url`` is the feed's, for an item with no link of its own
    # What a portal page states about the instrument it shows (draft portals' spiders only).
    instrument: InstrumentFacts | None = None
    # The HTTP exchange(s) the document came from (FetchPolicy.record), kept as evidence when
    # it raises a signal. A feed's items share their feed's one Capture.
    capture: Capture | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        url = _URL_CONTROL.sub("", self.url).strip().replace(" ", "%20")  # never stored raw
        object.__setattr__(self, "url", url)
        object.__setattr__(self, "title", clean_text(self.title).replace("\n", " "))
        object.__setattr__(self, "text", clean_text(self.text))
        if self.guid is not None:
            object.__setattr__(self, "guid", _URL_CONTROL.sub("", self.guid).strip()[:1024] or None)
        object.__setattr__(self, "published", plausible_date(self.published, self.fetched_at))

    @cached_property  # computed once: the fields never change
    def canonical_url(self) -> str:
        return canonical_url(self.url)

    @cached_property
    def content_hash(self) -> str:
        return content_hash(self.title, self.text)


@dataclass
class Collected:
    """What one poll of a source gave: its Documents, the items left out (with why), and
    what the next poll needs. A failing source raises instead."""

    source: str
    # Not in the repr: asyncio.run() formats a finished crawl's task (and so this result) when
    # it restores the SIGINT handler, and 2,000 documents' text took 0.25 s to format.
    documents: list[Document] = field(default_factory=list, repr=False)
    skipped: list[str] = field(default_factory=list, repr=False)
    # What the source's health should say though the poll worked (bytes replaced, cut feed).
    warnings: list[str] = field(default_factory=list, repr=False)
    not_modified: bool = False  # the server answered 304 to our validators: nothing parsed
    validators: Validators = field(default_factory=Validators)  # for the next conditional GET
    fresh_for: float | None = None  # seconds the server says the content stays fresh


# Epoch zero (and before) is a publisher's unset date, never a publication date.
_EPOCH_END = datetime(1970, 1, 2, tzinfo=UTC)
# How far ahead of our clock a publisher's may run; further ahead is clamped to when we saw it.
FUTURE_SKEW = timedelta(days=1)


def plausible_date(when: datetime | None, seen: datetime) -> datetime | None:
    """A publication date as stored, for every path (feeds, pages, sitemaps, imports): UTC;
    None (unknown, ordered by first-seen) for epoch zero; ``seen`` for a date beyond
    :data:`FUTURE_SKEW` ahead of it. Never a reason to drop the item."""
    if when is None:
        return None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if when < _EPOCH_END:
        return None
    return seen if when > seen + FUTURE_SKEW else when


def clean_text(text: str) -> str:
    """NFC, no NUL/control characters, single spaces, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANKLINES.sub("\n\n", text).strip()


def content_hash(title: str, text: str) -> str:
    """Hash of the normalised title and text: equal for the same story under another URL."""
    norm = " ".join(f"{title}\n{text}".casefold().split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters,
    sorted query — so the same page reached by two links is one document."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)
    )
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query), ""))
