"""Collection benchmarks against a loopback site in another process (``bench/site.py``):

(a) 2,000 article pages: the project's crawler (an ``html`` source → Scrapy → the one Fetcher
    → selector extraction → Documents) against a plain httpx async loop doing the same
    fetching (same concurrency, no delay) and the same extraction, measured in the same run,
    alternating, best of three each; prints pages/s for both and the ratio (target ≥ 0.85),
    and each side's CPU time per page (all its threads; the site's process not counted) —
    steadier than wall time on a shared machine, where a process of many threads gets more of
    the CPU than a one-thread loop.
(b) a poll cycle over 500 feeds that answer 304 Not Modified: ``collect_sources`` with the
    ETags stored by a first (untimed) cycle; target ≤ 3 s, and no body parsed (every source
    reports not-modified, no item seen).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.site import ARTICLES, FEEDS
from regwatch.commands.common import fetch_policy, make_flagger
from regwatch.config import FetchConfig, NlpConfig, SourceConfig
from regwatch.crawlers import Document, Fetcher, FetchPolicy, collect
from regwatch.crawlers.extract import article_from_page, decode_html, links_from_listing
from regwatch.pipeline import collect_sources
from regwatch.store import db

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = 8
SELECTORS = {"title_selector": "h1", "text_selector": "div.body", "date_selector": "time"}


@contextmanager
def local_site() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.site"], stdout=subprocess.PIPE, cwd=ROOT, text=True
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def _policy() -> FetchPolicy:
    return fetch_policy(
        FetchConfig(
            timeout=30.0,
            allow_networks=("127.0.0.0/8",),
            per_host_concurrency=CONCURRENCY,
            per_host_delay=0.0,
        )
    )


class Timed:
    """Wall and CPU seconds of a block (CPU: this process, all its threads)."""

    def __enter__(self) -> Timed:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def crawl_with_project(base: str) -> Timed:
    source = SourceConfig(
        name="bench",
        url=f"{base}/list",
        type="html",
        link_selector="a.item",
        max_articles=ARTICLES,
        languages=("ru",),
        title_selector=SELECTORS["title_selector"],
        text_selector=SELECTORS["text_selector"],
        date_selector=SELECTORS["date_selector"],
    )
    with Fetcher(_policy()) as fetcher, Timed() as took:
        got = collect(source, fetcher)
    assert len(got.documents) == ARTICLES, (len(got.documents), got.skipped[:3])
    return took


async def _httpx_loop(base: str) -> list[Document]:
    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        listing = await client.get(f"{base}/list")
        html = decode_html(listing.content, listing.charset_encoding)
        links = links_from_listing(html, str(listing.url), "a.item")
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(url: str) -> Document:
            async with gate:
                resp = await client.get(url)
            resp.raise_for_status()
            art = article_from_page(
                decode_html(resp.content, resp.charset_encoding), str(resp.url), **SELECTORS
            )
            return Document(
                url=art.url,
                title=art.title,
                text=art.text,
                source="bench",
                published=art.published,
                lang=art.lang,
            )

        return list(await asyncio.gather(*(one(u) for u in links)))


def crawl_with_httpx(base: str) -> Timed:
    with Timed() as took:
        docs = asyncio.run(_httpx_loop(base))
    assert len(docs) == ARTICLES
    return took


def poll_not_modified(base: str) -> tuple[float, int, int]:
    sources = [
        SourceConfig(name=f"feed-{i}", url=f"{base}/feed/{i}.xml", country="kz")
        for i in range(FEEDS)
    ]
    flagger = make_flagger(NlpConfig())
    with tempfile.TemporaryDirectory() as tmp:
        engine = db.make_engine(f"sqlite:///{tmp}/bench.db")
        db.upgrade(engine)
        with Fetcher(_policy()) as fetcher:
            first = collect_sources(engine, flagger, fetcher, sources)
            assert first.sources_ok == FEEDS and first.items_seen == FEEDS
            started = time.perf_counter()
            second = collect_sources(engine, flagger, fetcher, sources)
            took = time.perf_counter() - started
        engine.dispose()
    return took, len(second.not_modified), second.items_seen


def main() -> None:
    with local_site() as base:
        project: list[Timed] = []
        plain: list[Timed] = []
        for _ in range(3):
            project.append(crawl_with_project(base))
            plain.append(crawl_with_httpx(base))
        ours = ARTICLES / min(t.wall for t in project)
        theirs = ARTICLES / min(t.wall for t in plain)
        cpu_ours = min(t.cpu for t in project) / ARTICLES * 1000
        cpu_theirs = min(t.cpu for t in plain) / ARTICLES * 1000
        print(
            f"crawl {ARTICLES} article pages (concurrency {CONCURRENCY}, same extraction): "
            f"project crawler {ours:.0f} pages/s, plain httpx loop {theirs:.0f} pages/s, "
            f"ratio {ours / theirs:.2f} (target >= 0.85); CPU per page: project "
            f"{cpu_ours:.2f} ms, httpx loop {cpu_theirs:.2f} ms (ratio {cpu_theirs / cpu_ours:.2f})"
        )
        took, not_modified, items = poll_not_modified(base)
        print(
            f"poll {FEEDS} feeds answering 304: {took:.2f} s (target <= 3 s); "
            f"{not_modified} not modified, {items} items parsed"
        )


if __name__ == "__main__":
    main()
