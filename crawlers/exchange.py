"""What the Fetcher saw on the wire, kept as evidence: each HTTP exchange of one ``get()`` (the
redirect hops, then the final answer) as sent and as received.

The body is kept as received — still compressed when the server compressed it (so a WARC
record of it can say ``Content-Encoding: gzip`` truthfully), after de-chunking by the HTTP
client. Wherever the record has to differ from the wire, ``notes`` says how: a credential
redacted, ``Transfer-Encoding`` removed from a de-chunked body, a redirect's body not read.
The store turns a :class:`Capture` into WARC records (``store/warc.py``); only documents that
raised a signal keep theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["CAPTURE_META", "REDACTED", "SECRET_HEADERS", "Capture", "Exchange"]

CAPTURE_META = "regwatch_capture"  # Scrapy Request.meta key: the Fetcher's Capture of it

# Request headers whose values never reach a capture: a capture can be downloaded from the UI.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
REDACTED = "[redacted by regwatch]"


@dataclass(frozen=True, eq=False)
class Exchange:
    """One request and its response, as the Fetcher sent and received them."""

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]  # as sent (latin-1), secrets redacted
    http_version: str  # "HTTP/1.1"
    status: int
    reason: str
    response_headers: tuple[tuple[str, str], ...]  # as received (latin-1), see notes
    body: bytes = field(repr=False)  # as received: still content-encoded, de-chunked
    started: datetime = field(repr=False)  # UTC, when the request went out
    remote_address: str | None = None  # the IP address the connection went to, when known
    notes: tuple[str, ...] = ()  # how this record differs from the bytes on the wire


@dataclass(frozen=True, eq=False)
class Capture:
    """Every exchange of one fetch, in order: redirect hops first, the answer last."""

    exchanges: tuple[Exchange, ...] = field(repr=False)

    def __post_init__(self) -> None:
        if not self.exchanges:
            raise ValueError("a capture holds at least one exchange")

    @property
    def url(self) -> str:
        """The URL that answered (after redirects)."""
        return self.exchanges[-1].url

    @property
    def captured_at(self) -> datetime:
        """When the answer was requested (UTC)."""
        return self.exchanges[-1].started

    @property
    def body_bytes(self) -> int:
        return sum(len(e.body) for e in self.exchanges)

    def __repr__(self) -> str:
        return f"Capture({self.url!r}, {len(self.exchanges)} exchange(s), {self.body_bytes} B)"
