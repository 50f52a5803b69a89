"""Disk use of the evidence store: captures (.warc.gz) per 1,000 flagged documents, printed
against the size of the same documents' stored text (the baseline, measured in the same run:
``document_versions.text`` as UTF-8), for three shapes of source collected through the real
path (loopback site → Fetcher with ``record`` → Scrapy or feedparser → ingest with evidence →
SQLite):

- article pages served gzip-compressed (most servers): one capture per document;
- the same pages served uncompressed: the WARC's own gzip does the compressing;
- RSS feeds of 100 items: one capture shared by the feed's items.

It also prints the CPU a fetch costs with ``record`` on against off (measured alternately in the
same run): what keeping the exchanges costs every page, flagged or not.

Every document carries a relevant paragraph, so nearly all raise a signal; the count printed
is of the documents that kept a capture. Knob: ``REGWATCH_BENCH_EVIDENCE`` (1,000 documents).
"""

from __future__ import annotations

import gzip
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.corpus import generate
from regwatch.config import SourceConfig
from regwatch.crawlers import Fetcher, FetchPolicy
from regwatch.nlp import Flagger
from regwatch.pipeline import collect_sources
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.evidence import EvidenceStore

__all__ = ["main"]

POLICY = FetchPolicy(
    timeout=30.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0, per_host_concurrency=8,
    record=True,
)  # fmt: skip
FEED_ITEMS = 100
NAV = "".join(f"<li><a href='/s/{k}'>Раздел {k}</a></li>" for k in range(20))


def _page(i: int, title: str, text: str) -> bytes:
    body = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n"))
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"</head><body><nav><ul>{NAV}</ul></nav><h1>{escape(title)} ({i})</h1>"
        f"<time datetime='2026-11-{1 + i % 28:02d}T09:00:00+05:00'>{1 + i % 28}.11.2026</time>"
        f"<div class='body'>{body}</div><footer>© 2026 Министерство</footer></body></html>"
    ).encode()


def _feed(n: int, items: list[tuple[int, str, str]], base: str) -> bytes:
    entries = "".join(
        f"<item><title>{escape(t)}</title><link>{base}/a/{i}</link>"
        f"<guid>{base}/a/{i}</guid><description>{escape(x)}</description></item>"
        for i, t, x in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F{n}</title>'
        f"{entries}</channel></rss>"
    ).encode()


@contextmanager
def _site(routes: dict[str, tuple[bytes, str]], compress: bool) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            found = routes.get(self.path)
            body, ctype = found if found else (b"not found", "text/plain")
            encoded = compress and found is not None
            if encoded:
                body = gzip.compress(body, 6)
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", ctype)
            if encoded:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _measure(
    label: str, docs: list[tuple[str, str, str]], shape: str, compress: bool, flagger: Flagger
) -> None:
    with tempfile.TemporaryDirectory(prefix="regwatch-bench-evidence-") as tmp:
        folder = Path(tmp) / "evidence"
        engine = db.make_engine(f"sqlite:///{tmp}/b.db")
        db.upgrade(engine)
        routes: dict[str, tuple[bytes, str]] = {}
        with _site(routes, compress) as base:
            if shape == "pages":
                links = "".join(f"<a class='a' href='/a/{i}'>{i}</a>" for i in range(len(docs)))
                routes["/list"] = (f"<html><body>{links}</body></html>".encode(), "text/html")
                for i, (_lang, title, text) in enumerate(docs):
                    routes[f"/a/{i}"] = (_page(i, title, text), "text/html; charset=utf-8")
                sources = [
                    SourceConfig(
                        name="pages", url=f"{base}/list", type="html", link_selector="a.a",
                        title_selector="h1", text_selector="div.body", date_selector="time",
                        max_articles=len(docs), robots=False,
                    )
                ]  # fmt: skip
            else:
                sources = []
                for n, start in enumerate(range(0, len(docs), FEED_ITEMS)):
                    part = [
                        (i, t, x)
                        for i, (_l, t, x) in enumerate(docs)
                        if start <= i < start + FEED_ITEMS
                    ]
                    routes[f"/feed/{n}.xml"] = (_feed(n, part, base), "application/rss+xml")
                    sources.append(SourceConfig(name=f"feed-{n}", url=f"{base}/feed/{n}.xml"))
            started = time.perf_counter()
            with Fetcher(POLICY) as fetcher:
                summary = collect_sources(
                    engine, flagger, fetcher, sources, evidence=EvidenceStore(folder), force=True
                )
            took = time.perf_counter() - started
        with db.session_scope(engine) as s:
            kept = s.scalar(select(func.count(func.distinct(m.DocumentCapture.document_id)))) or 0
            captures = s.scalar(select(func.count()).select_from(m.Capture)) or 0
            kept_ids = select(m.DocumentCapture.document_id)
            stored = sum(
                len(t.encode()) + len(title.encode())
                for t, title in s.execute(
                    select(m.DocumentVersion.text, m.DocumentVersion.title).where(
                        m.DocumentVersion.document_id.in_(kept_ids)
                    )
                )
            )
        engine.dispose()
        files = [p for p in folder.rglob("*.warc.gz")]
        size = sum(p.stat().st_size for p in files)
        blocks = sum(p.stat().st_blocks * 512 for p in files)
    per = 1000 / kept if kept else 0.0
    print(
        f"  {label}: {kept} of {summary.items_seen} documents kept a capture "
        f"({captures} files) in {took:.1f}s\n"
        f"    per 1,000 documents: captures {size * per / 1e6:.2f} MB "
        f"({blocks * per / 1e6:.2f} MB on disk in 4 KiB blocks), stored text "
        f"{stored * per / 1e6:.2f} MB → {size / stored if stored else 0:.2f}x the text "
        f"({blocks / stored if stored else 0:.2f}x on disk)"
    )


def _fetch_cost(docs: list[tuple[str, str, str]]) -> None:
    """CPU per page fetched with ``record`` on against off (the baseline), alternating, best
    of three each: what keeping the exchanges costs every fetch, flagged or not."""
    routes = {
        f"/a/{i}": (_page(i, title, text), "text/html; charset=utf-8")
        for i, (_lang, title, text) in enumerate(docs)
    }
    best = {True: float("inf"), False: float("inf")}
    with _site(routes, compress=True) as base:
        for _round in range(3):
            for record in (False, True):
                policy = FetchPolicy(
                    timeout=30.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0,
                    record=record,
                )  # fmt: skip
                with Fetcher(policy) as fetcher:
                    started = time.process_time()
                    for path in routes:
                        fetcher.get(base + path)
                    best[record] = min(best[record], (time.process_time() - started) / len(routes))
    print(
        f"  fetching {len(routes)} gzipped pages: {best[True] * 1e3:.2f} ms CPU a page recorded, "
        f"{best[False] * 1e3:.2f} ms without → {best[True] / best[False]:.2f}x"
    )


def main() -> None:
    n = int(os.environ.get("REGWATCH_BENCH_EVIDENCE", "1000"))
    docs = generate(megabytes=n * 3000 / 1e6, seed=11, relevant_share=1.0)[:n]
    flagger = Flagger.from_folder()
    print(f"evidence disk use ({len(docs)} documents, ~2 KB of text each; baseline: their text)")
    _measure("article pages, served gzipped", docs, "pages", True, flagger)
    _measure("article pages, served plain", docs, "pages", False, flagger)
    _measure(f"RSS feeds of {FEED_ITEMS} items", docs, "feeds", False, flagger)
    _fetch_cost(docs)


if __name__ == "__main__":
    main()
