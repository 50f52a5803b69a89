"""Decoding a body: its Content-Encoding in bounded steps (so a compression bomb stops at the
body cap), and its characters (:func:`decode_text`).

gzip, deflate (zlib-wrapped or raw) and brotli; each ``feed()`` call yields at most ``room + 1``
bytes at a time, so the caller sees the cap crossed before more memory is spent.

Characters: a byte-order mark wins; then valid UTF-8 is UTF-8; then the encoding the document
declares, then the HTTP charset, else UTF-8 — unless most of the text is not UTF-8, when the
region's likeliest legacy encoding is detected. Bytes the encoding cannot read become U+FFFD one
by one and are counted — one stray byte never sends the whole document to another code page.
"""

from __future__ import annotations

import codecs
import re
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import brotli
import charset_normalizer

from regwatch.errors import FetchError

__all__ = ["ACCEPT_ENCODING", "LIKELY_ENCODINGS", "Decoded", "Decoder", "decode_text"]

ACCEPT_ENCODING = "gzip, deflate, br"


class Decoder:
    """Decompresses one Content-Encoding in steps of at most ``room + 1`` bytes of output."""

    def __init__(self, encoding: str, url: str) -> None:
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if len(codings) > 1:
            raise FetchError(f"fetch: {url} uses stacked encodings {encoding!r}; refused")
        coding = codings[0] if codings else ""
        self._z: Any = False
        self._br: Any = None
        if coding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            self._z = None  # zlib-wrapped or raw: decided on the first bytes
        elif coding == "br":
            self._br = brotli.Decompressor()
        elif coding != "":
            raise FetchError(f"fetch: {url} uses unsupported Content-Encoding {coding!r}")
        self._coding = coding

    def feed(self, data: bytes, room: int) -> Iterator[bytes]:
        if self._br is not None:
            yield from self._feed_brotli(data, room)
            return
        if self._z is False:
            yield data
            return
        if self._z is None:
            raw = not (
                len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            )
            self._z = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
        while data:
            try:
                out = self._z.decompress(data, room + 1)
            except zlib.error as exc:
                raise FetchError(f"fetch: corrupt {self._coding} body ({exc})") from None
            yield out
            data = self._z.unconsumed_tail
            room -= len(out)
            if room < 0:
                return

    def _feed_brotli(self, data: bytes, room: int) -> Iterator[bytes]:
        # brotli >= 1.2: with output_buffer_limit the decompressor keeps the rest of its output
        # for later calls with empty input, until it can accept more data.
        try:
            out = self._br.process(data, output_buffer_limit=room + 1)
            yield out
            room -= len(out)
            while room >= 0 and not self._br.can_accept_more_data():
                out = self._br.process(b"", output_buffer_limit=room + 1)
                if not out:
                    return
                yield out
                room -= len(out)
        except brotli.error as exc:
            raise FetchError(f"fetch: corrupt br body ({exc})") from None


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDE_STARTS = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00?\x00", "utf-16-le"),
    (b"\x00<\x00?", "utf-16-be"),
)
# Encodings an undeclared (or wrongly declared) text from the region is likely to be in.
LIKELY_ENCODINGS = ["utf_8", "cp1251", "koi8_r", "koi8_u", "cp866", "iso8859_5", "cp1252"]
_SNIFF = 64 * 1024
_ASCII = bytes(range(128))
_LABEL = rb"""["']?([A-Za-z0-9._:-]{1,40})"""
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]{0,200}?encoding\s*=\s*" + _LABEL)
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*" + _LABEL, re.I)
_HTTP_CHARSET = re.compile(r"charset\s*=\s*" + _LABEL.decode(), re.I)
_counts = threading.local()


def _count_and_replace(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    _counts.n = getattr(_counts, "n", 0) + (exc.end - exc.start)
    return "\ufffd", exc.end


codecs.register_error("regwatch.count", _count_and_replace)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # the codec used (Python's name)
    replaced: int = 0  # bytes the encoding could not read, each now U+FFFD
    bom: bool = False  # a byte-order mark chose the encoding

    def note(self, url: str) -> str | None:
        """The health note for the bytes replaced, or None when there were none."""
        if not self.replaced:
            return None
        return (
            f"{url}: {self.replaced} bytes were not valid {self.encoding} and were replaced "
            "with U+FFFD; ask the publisher to fix the feed's encoding"
        )


def _codec(name: bytes | str | None) -> str | None:
    if not name:
        return None
    label = name.decode("ascii", "replace") if isinstance(name, bytes) else name
    try:
        return codecs.lookup(label.strip()).name
    except LookupError:
        return None


def decode_text(body: bytes, content_type: str = "") -> Decoded:
    """``body`` as text: the byte-order mark's encoding, else the one the document declares
    (``<?xml encoding>``, ``<meta charset>``), else the HTTP charset, else UTF-8. An
    ASCII-compatible declaration cannot override a UTF-16/32 byte-order mark."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return _decode(body[len(bom) :], name, bom=True)
    for start, name in _WIDE_STARTS:  # no BOM, but "<?" in a wide encoding (XML 1.0, F.1)
        if body.startswith(start):
            return _decode(body, name)
    head = body[:2048]
    declared = _XML_DECL.match(head) or _META_CHARSET.search(head)
    http = _HTTP_CHARSET.search(content_type)
    encoding = (
        _codec(declared.group(1) if declared else None)
        or _codec(http.group(1) if http else None)
        or "utf-8"
    )
    if encoding.startswith(("utf-16", "utf-32")):  # declared so, but no BOM: read ASCII as is
        encoding = "utf-8"
    wide = len(body.translate(None, _ASCII))  # bytes past ASCII (ASCII deleted)
    if wide and encoding != "utf-8" and _is_utf8(body):
        encoding = "utf-8"  # valid UTF-8 beyond ASCII is never a legacy page by accident
    decoded = _decode(body, encoding)
    if encoding == "utf-8" and decoded.replaced * 10 > wide:
        # Mostly not UTF-8: the declaration (or its absence) is wrong, not a stray byte.
        best = charset_normalizer.from_bytes(body[:_SNIFF], cp_isolation=LIKELY_ENCODINGS).best()
        if best is not None and _codec(best.encoding) not in (None, "utf-8"):
            return _decode(body, _codec(best.encoding) or "utf-8")
    return decoded


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _decode(data: bytes, encoding: str, *, bom: bool = False) -> Decoded:
    _counts.n = 0
    text = data.decode(encoding, "regwatch.count")
    return Decoded(text, encoding, _counts.n, bom)
