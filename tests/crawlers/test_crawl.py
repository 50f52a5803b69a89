"""Scrapy sources (html, sitemap) against a loopback site: the generic spiders, the registry,
and the fetch rules every Scrapy request keeps (addresses, size cap, robots.txt)."""

from __future__ import annotations

import gzip
import itertools
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from regwatch.config import SourceConfig
from regwatch.crawlers import Fetcher, FetchPolicy, collect
from regwatch.crawlers.document import Document
from regwatch.crawlers.politeness import Validators
from regwatch.crawlers.spiders import register, spider_class
from regwatch.crawlers.spiders.generic import ListingSpider, SourceSpider
from regwatch.errors import ConfigError, ExtractError, FeedError, FetchError, UnsafeURLError
from tests.conftest import LocalSite, Route

POLICY = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
TEXT = (
    "Министерство цифрового развития опубликовало для публичного обсуждения проект закона об "
    "искусственном интеллекте. Обсуждение продлится до конца месяца."
)


def page(title: str) -> str:
    return (
        f"<html lang='ru'><head><title>{title}</title></head><body><nav><a href='/'>Главная</a>"
        f"</nav><article><h1>{title}</h1><p>{TEXT}</p><p>{title}: {TEXT}</p></article></body></html>"
    )


def urlset(entries: list[tuple[str, str]], news: bool = False) -> str:
    items = []
    for loc, date in entries:
        stamp = (
            f"<news:news><news:publication_date>{date}</news:publication_date></news:news>"
            if news
            else f"<lastmod>{date}</lastmod>"
        )
        items.append(f"<url><loc>__BASE__{loc}</loc>{stamp}</url>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset '
        'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        + "".join(items)
        + "</urlset>"
    )


def titles(docs: list[Document]) -> list[str]:
    return sorted(d.title for d in docs)


def test_sitemap_index_gzip_child_and_news_sitemap(site: LocalSite) -> None:
    today = datetime.now(UTC).date()
    old = (today - timedelta(days=60)).isoformat()
    site.add(
        "/sitemap.xml",
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>__BASE__/s1.xml.gz</loc><lastmod>{today}</lastmod></sitemap>"
        f"<sitemap><loc>__BASE__/news.xml</loc></sitemap>"
        f"<sitemap><loc>__BASE__/archive.xml</loc><lastmod>{old}</lastmod></sitemap>"
        "</sitemapindex>",
        content_type="application/xml",
    )
    child = urlset([("/a/1", today.isoformat()), ("/a/old", old), ("/tag/x", today.isoformat())])
    site.add(
        "/s1.xml.gz",
        gzip.compress(child.replace("__BASE__", site.base).encode()),
        content_type="application/x-gzip",
    )
    site.add("/news.xml", urlset([("/a/2", f"{today}T08:00:00+05:00")], news=True))
    for path, title in (("/a/1", "Первая"), ("/a/2", "Вторая"), ("/a/old", "Старая")):
        site.add(path, page(title))
    source = SourceConfig(
        name="sm", url=site.base + "/sitemap.xml", type="sitemap", deny=(r"/tag/",)
    )
    with Fetcher(POLICY) as fetcher:
        got = collect(source, fetcher)
    assert titles(got.documents) == ["Вторая", "Первая"]
    assert "/archive.xml" not in site.hits and "/a/old" not in site.hits
    assert "/tag/x" not in site.hits and got.skipped == []
    [second] = [d for d in got.documents if d.title == "Вторая"]
    assert second.published is not None and second.published.date() == today


def test_not_a_sitemap_and_entity_attacks_fail_the_source(site: LocalSite) -> None:
    site.add("/html", page("x"))
    site.add(
        "/bomb.xml",
        '<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa">]><urlset>&a;</urlset>',
    )
    with Fetcher(POLICY) as fetcher:
        with pytest.raises(FeedError, match="not a sitemap"):
            collect(SourceConfig(name="s", url=site.base + "/html", type="sitemap"), fetcher)
        with pytest.raises(FeedError, match="entities"):
            collect(SourceConfig(name="s", url=site.base + "/bomb.xml", type="sitemap"), fetcher)


def test_listing_pagination_allow_and_deny(site: LocalSite) -> None:
    site.add(
        "/list",
        "<a class='n' href='/news/1'>1</a><a class='n' href='/ads/9'>ad</a>"
        "<a class='n' href='/news/2?print=1'>2p</a><a class='next' href='/list?p=2'>next</a>",
    )
    site.add("/list?p=2", "<a class='n' href='/news/3'>3</a><a class='next' href='/list?p=3'>n</a>")
    site.add("/list?p=3", "<a class='n' href='/news/4'>4</a>")
    for i in range(1, 5):
        site.add(f"/news/{i}", page(f"Новость {i}"))
    source = SourceConfig(
        name="gov",
        url=site.base + "/list",
        type="html",
        link_selector="a.n",
        next_selector="a.next",
        max_pages=2,
        allow=(r"/news/",),
        deny=(r"print=",),
    )
    with Fetcher(POLICY) as fetcher:
        got = collect(source, fetcher)
    assert titles(got.documents) == ["Новость 1", "Новость 3"]
    assert "/list?p=3" not in site.hits and "/ads/9" not in site.hits


def test_robots_txt_is_obeyed_unless_the_source_says_otherwise(site: LocalSite) -> None:
    site.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.add("/list", "<a class='n' href='/news/1'>1</a><a class='n' href='/private/2'>2</a>")
    site.add("/news/1", page("Открытая"))
    site.add("/private/2", page("Закрытая"))
    site.add("/private/list", "<a class='n' href='/news/1'>1</a>")

    def src(path: str, robots: bool = True) -> SourceConfig:
        return SourceConfig(
            name="r", url=site.base + path, type="html", link_selector="a.n", robots=robots
        )

    with Fetcher(POLICY) as fetcher:
        got = collect(src("/list"), fetcher)
        assert titles(got.documents) == ["Открытая"] and "/private/2" not in site.hits
        assert any("robots.txt" in s and "/private/2" in s for s in got.skipped)
        with pytest.raises(FetchError, match=r"robots\.txt"):
            collect(src("/private/list"), fetcher)
        assert titles(collect(src("/list", robots=False), fetcher).documents) == [
            "Закрытая",
            "Открытая",
        ]


def test_scrapy_requests_keep_the_address_rules(site: LocalSite) -> None:
    site.add("/list", "<a class='n' href='/news/1'>1</a>")
    source = SourceConfig(name="p", url=site.base + "/list", type="html", link_selector="a.n")
    with (
        Fetcher(FetchPolicy(timeout=5.0, per_host_delay=0.0)) as fetcher,
        pytest.raises(UnsafeURLError),
    ):
        collect(source, fetcher)
    assert site.hits == []  # not even robots.txt


def test_scrapy_requests_keep_the_size_cap_and_user_agent(site: LocalSite) -> None:
    site.add("/list", "<a class='n' href='/big'>1</a><a class='n' href='/news/1'>2</a>")
    site.add("/big", page("Большая") + "<!--" + "x" * 20_000 + "-->")
    site.add("/news/1", page("Обычная"))
    source = SourceConfig(
        name="c",
        url=site.base + "/list",
        type="html",
        link_selector="a.n",
        user_agent="regwatch-test (ops@example.org)",
    )
    policy = FetchPolicy(
        timeout=5.0, max_bytes=8192, allow_networks=("127.0.0.0/8",), per_host_delay=0.0
    )
    with Fetcher(policy) as fetcher:
        got = collect(source, fetcher)
    assert titles(got.documents) == ["Обычная"]
    assert any("/big" in s and "8192" in s for s in got.skipped)
    assert {h["user-agent"] for _p, h in site.requests} == {"regwatch-test (ops@example.org)"}


def test_listing_without_matching_links_fails_the_source(site: LocalSite) -> None:
    site.add("/list", "<p>redesigned</p>")
    source = SourceConfig(name="x", url=site.base + "/list", type="html", link_selector="a.n")
    with Fetcher(POLICY) as fetcher, pytest.raises(ExtractError, match="link_selector"):
        collect(source, fetcher)


@register("test-site")
class _TestSiteSpider(ListingSpider):
    """A site spider as a site module would define one: its own article parsing."""

    async def parse_article(self, response: Any, hint: datetime | None = None) -> list[Any]:
        return [
            Document(
                url=response.url,
                title=response.css("h1::text").get("").upper(),
                text=" ".join(response.css("p::text").getall()),
                source=self.source.name,
            )
        ]


def test_a_registered_site_spider_is_used_by_name(site: LocalSite) -> None:
    site.add("/list", "<a class='n' href='/news/1'>1</a>")
    site.add("/news/1", page("Сайт"))
    source = SourceConfig(
        name="t", url=site.base + "/list", type="html", link_selector="a.n", spider="test-site"
    )
    with Fetcher(POLICY) as fetcher:
        assert titles(collect(source, fetcher).documents) == ["САЙТ"]
    with pytest.raises(ConfigError, match="test-site"):
        spider_class("html", "no-such-site")


def test_a_busy_start_page_fails_the_source_with_its_retry_after(site: LocalSite) -> None:
    site.add("/list", "busy", status=503, headers={"Retry-After": "900"})
    source = SourceConfig(name="b", url=site.base + "/list", type="html", link_selector="a.n")
    with Fetcher(POLICY) as fetcher, pytest.raises(FetchError, match="HTTP 503") as info:
        collect(source, fetcher)
    assert (info.value.status, info.value.retry_after) == (503, 900.0)


def test_scrapy_requests_keep_the_deadline(site: LocalSite) -> None:
    release = threading.Event()

    def slow(_headers: dict[str, str]) -> Route:
        release.wait(5)  # answers only after the fetch deadline has passed
        return 200, {"Content-Type": "text/html"}, page("Поздно").encode()

    site.add("/list", "<a class='n' href='/slow'>1</a><a class='n' href='/news/1'>2</a>")
    site.routes["/slow"] = slow
    site.add("/news/1", page("Вовремя"))
    source = SourceConfig(name="t", url=site.base + "/list", type="html", link_selector="a.n")
    started = time.monotonic()
    try:
        with Fetcher(
            FetchPolicy(timeout=0.5, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
        ) as fetcher:
            got = collect(source, fetcher)
    finally:
        release.set()
    assert titles(got.documents) == ["Вовремя"] and time.monotonic() - started < 4
    assert any("/slow" in s and "timed out" in s for s in got.skipped), got.skipped


def test_scrapy_requests_keep_the_per_host_delay(site: LocalSite) -> None:
    starts: list[float] = []

    def timed(_headers: dict[str, str]) -> Route:
        starts.append(time.monotonic())
        return 200, {"Content-Type": "text/html"}, page(f"Новость {len(starts)}").encode()

    site.add("/list", "".join(f"<a class='n' href='/n/{i}'>{i}</a>" for i in range(3)))
    for i in range(3):
        site.routes[f"/n/{i}"] = timed
    source = SourceConfig(name="d", url=site.base + "/list", type="html", link_selector="a.n")
    policy = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.4)
    with Fetcher(policy) as fetcher:
        got = collect(source, fetcher)
    assert len(got.documents) == 3
    gaps = [b - a for a, b in itertools.pairwise(sorted(starts))]
    assert min(gaps) >= 0.3, gaps  # arrival jitter allowed, as in test_politeness


def test_a_304_we_did_not_ask_for_is_an_error_not_a_success(site: LocalSite) -> None:
    """Without validators there is nothing to be "not modified" against."""
    site.add("/list", "", status=304)
    source = SourceConfig(name="odd", url=site.base + "/list", type="html", link_selector="a")
    policy = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
    with Fetcher(policy) as fetcher, pytest.raises(FetchError, match="answered HTTP 304"):
        collect(source, fetcher)


def test_a_page_linked_again_is_fetched_once(site: LocalSite) -> None:
    """Scrapy's duplicate filter is off; the spider drops repeated URLs by canonical URL — an
    article listed on two listing pages (once with a tracking parameter), a listing page that
    links back to the first one, and a PDF linked from two articles."""
    pdf = b"%PDF-1.4\n%%EOF\n"
    site.add(
        "/list",
        "<a class='n' href='/news/1'>1</a><a class='n' href='/news/2'>2</a>"
        "<a class='next' href='/list?p=2'>next</a>",
    )
    site.add(
        "/list?p=2",
        "<a class='n' href='/news/1?utm_source=x'>1</a><a class='n' href='/news/3'>3</a>"
        "<a class='next' href='/list'>first</a>",
    )
    body = "<p><a href='/files/draft.pdf'>Проект</a></p>"
    for i in range(1, 4):
        site.add(f"/news/{i}", page(f"Новость {i}").replace("</article>", body + "</article>"))
    site.add("/files/draft.pdf", pdf, content_type="application/pdf")
    source = SourceConfig(
        name="gov",
        url=site.base + "/list",
        type="html",
        link_selector="a.n",
        next_selector="a.next",
        max_pages=5,
    )
    with Fetcher(POLICY) as fetcher:
        got = collect(source, fetcher)
    assert titles(got.documents)[:3] == ["Новость 1", "Новость 2", "Новость 3"]
    fetched = sorted(h for h in site.hits if h != "/robots.txt")
    assert fetched == sorted(
        ["/list", "/list?p=2", "/news/1", "/news/2", "/news/3", "/files/draft.pdf"]
    ), fetched


@pytest.mark.parametrize("selectors", ["all", "title only"])
def test_articles_read_on_the_loop_or_the_extraction_thread_alike(
    site: LocalSite, selectors: str
) -> None:
    """With every field's selector, small pages are extracted on the event loop; otherwise
    (trafilatura) on the extraction thread. Both give the same Documents."""
    site.add("/list", "".join(f"<a class='n' href='/news/{i}'>{i}</a>" for i in range(3)))
    for i in range(3):
        site.add(
            f"/news/{i}",
            page(f"Новость {i}").replace(
                "<h1>", "<time datetime='2026-11-18T09:00:00+05:00'>18.11.2026</time><h1>"
            ),
        )
    every = selectors == "all"
    source = SourceConfig(
        name="gov",
        url=site.base + "/list",
        type="html",
        link_selector="a.n",
        title_selector="h1",
        text_selector="article" if every else "",
        date_selector="time" if every else "",
    )
    with Fetcher(POLICY) as fetcher:
        got = collect(source, fetcher)
    assert titles(got.documents) == ["Новость 0", "Новость 1", "Новость 2"]
    for doc in got.documents:
        assert TEXT.split(".")[0] in doc.text and doc.lang == "ru"
        assert doc.published is not None and doc.published.date().isoformat() == "2026-11-18"


@register("test-start-only")
class _StartOnlySpider(SourceSpider):
    """A site spider that parses its start page and nothing else: no bookkeeping of its own."""

    async def parse_start(self, response: Any) -> list[Any]:
        title = response.css("h1::text").get("")
        return [Document(url=response.url, title=title, text=TEXT, source=self.source.name)]


def test_the_base_spider_keeps_the_books_a_subclass_never_sees(site: LocalSite) -> None:
    """Validators, freshness, 304 and the Documents scraped are the base spider's: a subclass
    that only parses its start page gets them all."""

    def start(headers: dict[str, str]) -> Route:
        if headers.get("if-none-match") == '"v1"':
            return 304, {}, b""
        head = {"Content-Type": "text/html", "ETag": '"v1"', "Cache-Control": "max-age=120"}
        return 200, head, page("Одна").encode()

    site.routes["/one"] = start
    source = SourceConfig(name="s", url=site.base + "/one", type="html", spider="test-start-only")
    with Fetcher(POLICY) as fetcher:
        got = collect(source, fetcher)
        again = collect(source, fetcher, got.validators)
    assert titles(got.documents) == ["Одна"] and got.skipped == [] and not got.not_modified
    assert (got.validators, got.fresh_for) == (Validators('"v1"', None), 120.0)
    assert again.not_modified and again.documents == [] and again.skipped == []
    assert again.validators == Validators('"v1"', None)  # the 304 repeated none: kept


def test_a_failing_robots_txt_allows_all_without_an_error(
    site: LocalSite, caplog: pytest.LogCaptureFixture
) -> None:
    """Scrapy's own robots.txt request still gets an error status as an answer (4xx/5xx:
    allow all), not as an error to log; the spider's requests get the Fetcher's errors."""
    site.add("/robots.txt", "down", status=503)
    site.add("/list", "<a class='n' href='/news/1'>1</a><a class='n' href='/gone'>2</a>")
    site.add("/news/1", page("Открытая"))
    source = SourceConfig(name="r", url=site.base + "/list", type="html", link_selector="a.n")
    with caplog.at_level(logging.WARNING), Fetcher(POLICY) as fetcher:
        got = collect(source, fetcher)
    assert titles(got.documents) == ["Открытая"]
    assert got.skipped == [f"fetch: {site.base}/gone answered HTTP 404"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_an_unresolvable_off_site_robots_txt_is_one_line_not_a_traceback(
    site: LocalSite, caplog: pytest.LogCaptureFixture
) -> None:
    site.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    site.add(
        "/list",
        "<a class='n' href='/news/1'>1</a><a class='n' href='http://gone.invalid/news/2'>2</a>",
    )
    site.add("/news/1", page("Своя"))
    source = SourceConfig(name="r", url=site.base + "/list", type="html", link_selector="a.n")
    with caplog.at_level(logging.WARNING), Fetcher(POLICY) as fetcher:
        got = collect(source, fetcher)
    assert titles(got.documents) == ["Своя"]
    assert any("gone.invalid" in s for s in got.skipped), got.skipped
    robots = [r for r in caplog.records if "gone.invalid/robots.txt" in r.getMessage()]
    assert len(robots) == 1 and robots[0].levelno == logging.WARNING
    assert robots[0].exc_info is None and "cannot resolve" in robots[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
