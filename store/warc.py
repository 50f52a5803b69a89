"""A :class:`~regwatch.crawlers.exchange.Capture` as WARC/1.1 records (warcio), gzipped one
record per member: a ``warcinfo``, then a ``request`` and a ``response`` per exchange.

The HTTP header blocks are written byte for byte as the Fetcher sent and received them
(warcio would re-serialise them, percent-encoding any non-ASCII byte); the response payload is
the body as received — still gzip/deflate/brotli-encoded when the server encoded it, so the
recorded ``Content-Encoding`` is true. Where the record differs from the wire (a redacted
credential, a de-chunked body, a redirect's unread body) a ``WARC-Regwatch-Note`` header on
the record says how. Digests are SHA-256 (``WARC-Block-Digest``, ``WARC-Payload-Digest``).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from regwatch.crawlers.exchange import Capture, Exchange

__all__ = ["NOTE_HEADER", "iter_records", "to_warc"]

NOTE_HEADER = "WARC-Regwatch-Note"
_SOFTWARE = "regwatch (warcio 1.8)"


class _Sha256Writer(WARCWriter):  # type: ignore[misc]  # warcio has no type hints
    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


class _ExactHeaders(StatusAndHeaders):  # type: ignore[misc]
    """An HTTP header block warcio writes as given, not re-serialised."""

    def __init__(self, block: bytes, statusline: str, headers: list[tuple[str, str]]) -> None:
        super().__init__(statusline, headers, protocol="")
        self.headers_buff = block

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        pass  # the exact bytes are already there


def _block(first_line: str, headers: tuple[tuple[str, str], ...]) -> bytes:
    lines = [first_line, *(f"{name}: {value}" for name, value in headers), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _date(exchange: Exchange) -> str:
    when = exchange.started.astimezone(UTC).replace(tzinfo=None)
    return str(datetime_to_iso_date(when, use_micros=True))


def _write_exchange(writer: _Sha256Writer, exchange: Exchange) -> None:
    version = exchange.http_version or "HTTP/1.1"
    status = f"{exchange.status} {exchange.reason}".rstrip()
    response_block = _block(f"{version} {status}", exchange.response_headers)
    fields: dict[str, str] = {"WARC-Date": _date(exchange)}
    if exchange.remote_address:
        fields["WARC-IP-Address"] = exchange.remote_address
    response = writer.create_warc_record(
        exchange.url,
        "response",
        payload=io.BytesIO(exchange.body),
        length=len(exchange.body),
        warc_headers_dict=fields,
        http_headers=_ExactHeaders(response_block, status, list(exchange.response_headers)),
    )
    request_line = f"{exchange.method} {_target(exchange.url)} {version}"
    request = writer.create_warc_record(
        exchange.url,
        "request",
        payload=io.BytesIO(b""),
        length=0,
        warc_headers_dict={"WARC-Date": fields["WARC-Date"]},
        http_headers=_ExactHeaders(
            _block(request_line, exchange.request_headers),
            request_line,
            list(exchange.request_headers),
        ),
    )
    for note in exchange.notes:
        record = request if note.startswith("request header") else response
        record.rec_headers.add_header(NOTE_HEADER, note)
    writer.write_request_response_pair(request, response)


def to_warc(capture: Capture) -> tuple[bytes, int]:
    """The capture as a .warc.gz file's bytes, and how many records it holds."""
    out = io.BytesIO()
    writer = _Sha256Writer(out, gzip=True, warc_version="1.1")
    info = writer.create_warcinfo_record(
        "",
        {
            "software": _SOFTWARE,
            "format": "WARC File Format 1.1",
            "description": f"regwatch capture of {capture.url}",
        },
    )
    info.rec_headers.replace_header("WARC-Date", _date(capture.exchanges[-1]))
    writer.write_record(info)
    for exchange in capture.exchanges:
        _write_exchange(writer, exchange)
    return out.getvalue(), 1 + 2 * len(capture.exchanges)


def iter_records(data: bytes) -> Iterator[Any]:
    """The WARC records of a .warc.gz file's bytes (warcio ``ArcWarcRecord``), in order."""
    yield from ArchiveIterator(io.BytesIO(data))
