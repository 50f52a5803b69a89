"""The demo's sample articles read straight from ``demo/site`` — no server, but through the
same collection code as ``regwatch demo`` (a file-backed transport under the one Fetcher) —
for evaluation and benchmarks."""

from __future__ import annotations

import re

import httpx

from regwatch.commands.common import fetch_policy
from regwatch.config import load_sources
from regwatch.crawlers import Document, Fetcher, collect
from regwatch.demo.run import FETCH, SITE, SOURCES
from regwatch.demo.server import content_type
from regwatch.errors import FetchError

__all__ = ["load_corpus", "manifest"]

BASE = "http://demo.test"
_ROW = re.compile(r"^\| ([a-z-]+) \| ([\w-]+) \| [\d-]+ \| ([\w-]+) \| ([^|]+) \|", re.M)


def manifest() -> dict[str, tuple[str, bool]]:
    """Article id → (language, relevant?) from MANIFEST.md; Uzbek Cyrillic counts as uz."""
    text = (SITE / "MANIFEST.md").read_text(encoding="utf-8")
    return {
        ident: (lang.split("-")[0], "yes" in rel) for _src, ident, lang, rel in _ROW.findall(text)
    }


def _files(request: httpx.Request) -> httpx.Response:
    path = SITE / request.url.path.lstrip("/")
    if path.is_dir():
        path = path / "index.html"
    if not path.is_file():
        return httpx.Response(404, stream=httpx.ByteStream(b"not found"))
    body = path.read_bytes().replace(b"__BASE__", BASE.encode())
    return httpx.Response(
        200, headers={"Content-Type": content_type(path)}, stream=httpx.ByteStream(body)
    )


def _loopback(host: str) -> list[str]:
    return ["127.0.0.1"]


def load_corpus() -> list[Document]:
    docs: list[Document] = []
    # The files stand for a site on this machine: demo.test "resolves" to loopback, which the
    # demo's fetch.allow_networks lists (the address rules still apply to every URL).
    transport = httpx.MockTransport(_files)
    with Fetcher(fetch_policy(FETCH), transport=transport, resolver=_loopback) as fetcher:
        for source in load_sources(SOURCES, BASE):
            try:
                docs += collect(source, fetcher).documents
            except FetchError:
                continue  # the deliberately broken source
    return docs
