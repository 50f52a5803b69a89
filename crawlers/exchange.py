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

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import httpx

__all__ = [
    "CAPTURE_META",
    "REDACTED",
    "SECRET_HEADERS",
    "Capture",
    "Exchange",
    "as_recorded",
    "exchange_of",
    "remote_address",
]

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


def as_recorded(decoded: bytes, wire: bytes, cap: int) -> tuple[bytes, list[str], set[str]]:
    """The body a capture keeps: as received, unless that is over the cap (a compressed body
    can be a few bytes longer than its content) — then the decoded body, with the headers
    that described the wire form dropped and a note saying so."""
    if len(wire) <= cap:
        return wire, [], set()
    note = (
        "the body as received was over fetch.max_bytes: it is recorded decoded, without its "
        "Content-Encoding and Content-Length headers"
    )
    return decoded, [note], {"content-encoding", "content-length"}


def exchange_of(
    resp: httpx.Response,
    started: datetime,
    remote: str | None,
    body: bytes,
    secret: Iterable[str],
    notes: Iterable[str] = (),
    drop: Iterable[str] = (),
) -> Exchange:
    """The exchange behind ``resp`` as a capture keeps it: request headers as sent (secrets
    redacted), response headers as received (``Transfer-Encoding`` removed: the client has
    de-chunked the body), the remote address when the connection tells it."""
    said = list(notes)
    hidden = SECRET_HEADERS | {h.lower() for h in secret}
    dropped = {h.lower() for h in drop}
    request_headers: list[tuple[str, str]] = []
    for raw_name, raw_value in resp.request.headers.raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        if name.lower() in hidden:
            value = REDACTED
            said.append(f"request header {name} redacted")
        request_headers.append((name, value))
    response_headers: list[tuple[str, str]] = []
    for raw_name, raw_value in resp.headers.raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        if name.lower() == "transfer-encoding":
            said.append(f"Transfer-Encoding: {value} removed: the body is recorded de-chunked")
        elif name.lower() not in dropped:
            response_headers.append((name, value))
    return Exchange(
        method=resp.request.method,
        url=str(resp.request.url),
        request_headers=tuple(request_headers),
        http_version=resp.http_version,
        status=resp.status_code,
        reason=resp.reason_phrase,
        response_headers=tuple(response_headers),
        body=body,
        started=started,
        remote_address=remote,
        notes=tuple(said),
    )


def remote_address(resp: httpx.Response) -> str | None:
    stream = resp.extensions.get("network_stream")
    try:
        address = stream.get_extra_info("server_addr") if stream is not None else None
    except Exception:  # a transport that cannot say (MockTransport has no stream at all)
        return None
    return str(address[0]) if isinstance(address, tuple) and address else None
