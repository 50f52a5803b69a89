"""Content-Encoding decoding in bounded steps, so a compression bomb stops at the body cap.

gzip, deflate (zlib-wrapped or raw) and brotli; each ``feed()`` call yields at most ``room + 1``
bytes at a time, so the caller sees the cap crossed before more memory is spent.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import brotli

from regwatch.errors import FetchError

__all__ = ["ACCEPT_ENCODING", "Decoder"]

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
