"""The adilet.zan.kz spider: the RSS date index and act pages with editions read offline from
the team's pages, and a crawl of a loopback copy through the real collection path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from regwatch.config import SourceConfig
from regwatch.crawlers import Fetcher, FetchPolicy, collect
from regwatch.crawlers.spiders import spider_class
from regwatch.crawlers.spiders.kz_adilet import (
    STATUS_STAGES,
    KzAdiletSpider,
    act_from_page,
    acts_from_index,
)
from regwatch.crawlers.spiders.portal_fields import norm
from regwatch.errors import ExtractError
from regwatch.instruments.vocabulary import Stage
from tests.conftest import LocalSite

DATA = Path(__file__).parent / "data" / "kz_adilet"
POLICY = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
BASE = "https://adilet.zan.kz"
INDEX = "/rus/index/docs/dt=2026-&rss=true&page=1"
PAGES = {  # path -> fixture
    "/rus/docs/Z2600000123": "rus_docs_Z2600000123.html",
    "/rus/docs/Z2600000123/20270101": "rus_docs_Z2600000123_20270101.html",
    "/rus/docs/Z2600000123/20261120": "rus_docs_Z2600000123_20261120.html",
    "/kaz/docs/Z2600000123": "kaz_docs_Z2600000123.html",
    "/rus/docs/V2600035111": "rus_docs_V2600035111.html",
    "/rus/docs/P2400000592": "rus_docs_P2400000592.html",
}


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def test_the_index_gives_each_act_with_its_requisites() -> None:
    listing = acts_from_index((DATA / "index_2026.xml").read_bytes(), BASE + INDEX)
    assert [r.url for r in listing.rows] == [
        BASE + "/rus/docs/Z2600000123",
        BASE + "/rus/docs/V2600035111",
        BASE + "/rus/docs/P2400000592",
    ]
    assert listing.rows[2].fields["requisites"] == (
        "Постановление Правительства Республики Казахстан от 24 июля 2024 года № 592."
    )


def test_an_act_page_its_edition_and_the_editions_to_read() -> None:
    page = act_from_page(read(PAGES["/rus/docs/Z2600000123"]), BASE + "/rus/docs/Z2600000123")
    facts = page.facts
    assert (facts.portal, facts.portal_id, facts.jurisdiction) == (
        "adilet.zan.kz",
        "Z2600000123",
        "kz",
    )
    assert (facts.kind, facts.number, facts.stage, facts.version, facts.lang) == (
        "law",
        "123-VIII",
        Stage.IN_FORCE,
        "01.07.2027",
        "ru",
    )
    assert page.published == datetime(2026, 11, 20, tzinfo=UTC)  # adopted, not last revised
    assert page.related == (
        BASE + "/kaz/docs/Z2600000123",
        BASE + "/rus/docs/Z2600000123/20270101",
        BASE + "/rus/docs/Z2600000123/20261120",
    )  # the tabs (/info, /history, /links) are no editions
    assert page.text.splitlines()[:2] == ["Статус: Действующий", "Редакция: 01.07.2027"]


def test_each_edition_is_labelled_with_its_own_date() -> None:
    versions = {
        path: act_from_page(read(name), BASE + path).facts.version
        for path, name in PAGES.items()
        if "Z2600000123" in path
    }
    assert versions == {
        "/rus/docs/Z2600000123": "01.07.2027",
        "/rus/docs/Z2600000123/20270101": "01.01.2027",
        "/rus/docs/Z2600000123/20261120": "20.11.2026",
        "/kaz/docs/Z2600000123": "01.07.2027",
    }
    kazakh = act_from_page(read(PAGES["/kaz/docs/Z2600000123"]), BASE + "/kaz/docs/Z2600000123")
    assert (kazakh.facts.lang, kazakh.facts.kind, kazakh.facts.number) == ("kk", "law", "123-VIII")
    assert kazakh.facts.title == "Жасанды интеллект туралы"
    assert kazakh.published == datetime(2026, 11, 20, tzinfo=UTC)  # «2026 жылғы 20 қарашадағы»


def test_an_order_new_on_the_portal() -> None:
    facts = act_from_page(
        read(PAGES["/rus/docs/V2600035111"]), BASE + "/rus/docs/V2600035111"
    ).facts
    assert (facts.kind, facts.number, facts.stage, facts.version) == (
        "order",
        "411/НҚ",
        Stage.PUBLISHED,
        None,
    )


def test_a_bad_page_names_the_portal_the_page_and_what_is_missing() -> None:
    with pytest.raises(
        ExtractError, match=r"adilet\.zan\.kz: https://adilet\.zan\.kz/rus/docs/P2400000592: no act"
    ):
        act_from_page(read(PAGES["/rus/docs/P2400000592"]), BASE + "/rus/docs/P2400000592")


def test_every_status_in_the_fixtures_maps_to_a_stage() -> None:
    statuses = {read(n).split('class="status">', 1)[1].split("<", 1)[0] for n in PAGES.values()}
    assert statuses == {"Действующий", "Қолданыстағы", "Новый"}
    for status in statuses:
        assert isinstance(STATUS_STAGES[norm(status)], Stage)
    assert STATUS_STAGES[norm("Утративший силу")] is None  # known; no stage in the vocabulary


def source(site: LocalSite, **overrides: object) -> SourceConfig:
    fields: dict[str, object] = {
        "name": "kz-adilet",
        "url": site.base + INDEX,
        "type": "html",
        "country": "kz",
        "languages": ("ru", "kk"),
        "tier": "official",
        "spider": "kz-adilet",
    }
    return SourceConfig(**(fields | overrides))  # type: ignore[arg-type]


def serve(site: LocalSite) -> None:
    robots = "User-agent: *\nDisallow: /rus/search/\nDisallow: /rus/archive/\n"
    site.add("/robots.txt", robots, content_type="text/plain")
    index = read("index_2026.xml").replace(BASE, site.base)  # the copy's own links
    site.add(INDEX, index, content_type="application/rss+xml")
    for path, name in PAGES.items():
        site.add(path, read(name))


def test_a_crawl_reads_every_edition_and_language_under_one_code(site: LocalSite) -> None:
    assert spider_class("html", "kz-adilet") is KzAdiletSpider
    serve(site)
    with Fetcher(POLICY) as fetcher:
        got = collect(source(site), fetcher)
    facts = {d.url.removeprefix(site.base): d.instrument for d in got.documents if d.instrument}
    assert sorted(facts) == sorted(p for p in PAGES if "P24" not in p)
    law = [f for p, f in facts.items() if "Z2600000123" in p]
    assert {f.portal_id for f in law} == {"Z2600000123"}
    assert sorted(f.version or "" for f in law) == [
        "01.01.2027",
        "01.07.2027",
        "01.07.2027",
        "20.11.2026",
    ]
    assert got.skipped == [
        f"adilet.zan.kz: {site.base}/rus/docs/P2400000592: no act text "
        "(div.container_gamma.text) found; the page's layout may have changed — check the "
        "spider crawlers/spiders/ for adilet.zan.kz against the live page"
    ]
    # the Kazakh page's own editions are not chained from it: one level from the index item
    assert not any(h.startswith("/kaz/docs/Z2600000123/") for h in site.hits)


def test_max_articles_bounds_the_editions_read(site: LocalSite) -> None:
    serve(site)
    with Fetcher(POLICY) as fetcher:
        got = collect(source(site, max_articles=2), fetcher)
    assert len(got.documents) == 2


def test_an_unknown_status_is_kept_and_warned_of() -> None:
    html = read(PAGES["/rus/docs/V2600035111"]).replace("Новый", "На регистрации")
    page = act_from_page(html, BASE + "/rus/docs/V2600035111")
    assert page.facts.stage is None and page.facts.portal_id == "V2600035111"
    assert (
        len(page.warnings) == 1 and "status 'На регистрации' maps to no stage" in page.warnings[0]
    )
