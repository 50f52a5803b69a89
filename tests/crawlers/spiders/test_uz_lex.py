"""The lex.uz spider: the RSS feed and act pages in four language versions read offline from
the team's pages, and a crawl of a loopback copy through the real collection path."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from regwatch.config import SourceConfig
from regwatch.crawlers import Fetcher, FetchPolicy, collect
from regwatch.crawlers.spiders import spider_class
from regwatch.crawlers.spiders.portal import Row
from regwatch.crawlers.spiders.portal_fields import norm
from regwatch.crawlers.spiders.uz_lex import (
    STATUS_STAGES,
    UzLexSpider,
    act_from_page,
    acts_from_feed,
)
from regwatch.errors import ExtractError
from regwatch.instruments.vocabulary import Stage
from tests.conftest import LocalSite

DATA = Path(__file__).parent / "data" / "uz_lex"
POLICY = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
BASE = "https://lex.uz"
VERSIONS = {  # path -> fixture: the four language versions of act 7212345
    "/docs/7212345": "docs_7212345.html",
    "/uz/docs/7212345": "uz_docs_7212345.html",
    "/ru/docs/7212345": "ru_docs_7212345.html",
    "/en/docs/7212345": "en_docs_7212345.html",
}


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def feed_row() -> Row:
    return acts_from_feed((DATA / "rss.xml").read_bytes(), BASE + "/rss").rows[0]


def test_the_feed_gives_the_items_that_link_an_act() -> None:
    listing = acts_from_feed((DATA / "rss.xml").read_bytes(), BASE + "/rss")
    assert [r.url for r in listing.rows] == [
        BASE + "/docs/7212345",
        BASE + "/ru/docs/7211001",
        BASE + "/docs/7209999",
    ]
    assert listing.skipped == [
        "lex.uz: https://lex.uz/rss: item 'Ҳужжатлар базаси янгиланди' links to no act"
    ]
    with pytest.raises(ExtractError, match=r"lex\.uz: https://lex\.uz/rss is not a readable RSS"):
        acts_from_feed(b"<html><body>502</body>", BASE + "/rss")


def test_four_language_versions_share_one_portal_id() -> None:
    pages = {
        path: act_from_page(read(name), BASE + path, feed_row()) for path, name in VERSIONS.items()
    }
    assert {p.facts.portal_id for p in pages.values()} == {"7212345"}
    assert {p.facts.kind for p in pages.values()} == {"law"}
    assert [(p.facts.lang, p.facts.number, p.facts.title) for p in pages.values()] == [
        ("uz", "ЎРҚ-1018", "Сунъий интеллект тўғрисида"),
        ("uz", "O‘RQ-1018", "Sun’iy intellekt to‘g‘risida"),
        ("ru", "ЗРУ-1018", "Об искусственном интеллекте"),
        ("en", "LRU-1018", "On Artificial Intelligence"),
    ]
    cyrillic = pages["/docs/7212345"]
    assert cyrillic.related == tuple(BASE + p for p in list(VERSIONS)[1:])
    assert cyrillic.facts.stage is Stage.PUBLISHED  # «Кучга кирмаган»: not yet in force
    assert cyrillic.facts.stage_date == date(2026, 11, 21)  # the feed's publication date
    assert cyrillic.published == datetime(2026, 11, 20, tzinfo=UTC)  # adopted
    assert "Улашиш" not in cyrillic.text  # the element buttons are not the act's text
    assert "2-модда. Юқори хавфли сунъий интеллект тизимлари" in cyrillic.text


def test_the_source_languages_choose_the_versions_followed() -> None:
    page = act_from_page(read("docs_7212345.html"), BASE + "/docs/7212345", None, ("uz", "ru"))
    assert page.related == (BASE + "/uz/docs/7212345", BASE + "/ru/docs/7212345")


def test_a_resolution_in_force_and_its_issuing_body() -> None:
    page = act_from_page(read("ru_docs_7211001.html"), BASE + "/ru/docs/7211001")
    facts = page.facts
    assert (facts.kind, facts.number, facts.stage) == ("resolution", "ПҚ-412", Stage.IN_FORCE)
    assert facts.issuing_body == "Президент Республики Узбекистан"


def test_a_bad_page_names_the_portal_the_page_and_what_is_missing() -> None:
    with pytest.raises(ExtractError, match=r"lex\.uz: https://lex\.uz/docs/7209999: no act text"):
        act_from_page(read("docs_7209999.html"), BASE + "/docs/7209999")
    with pytest.raises(ExtractError, match="no act id in the URL"):
        act_from_page(read("docs_7212345.html"), BASE + "/news/7212345")


def test_every_status_in_the_fixtures_maps_to_a_stage() -> None:
    names = [*VERSIONS.values(), "ru_docs_7211001.html"]
    statuses = {read(n).split('class="docs_status">', 1)[1].split("<", 1)[0] for n in names}
    assert len(statuses) == 5
    for line in statuses:
        status = line.split(": ", 1)[1]
        assert isinstance(STATUS_STAGES[norm(status)], Stage), status


def source(site: LocalSite, **overrides: object) -> SourceConfig:
    fields: dict[str, object] = {
        "name": "uz-lex",
        "url": site.base + "/rss",
        "type": "html",
        "country": "uz",
        "languages": ("uz", "ru", "en"),
        "tier": "official",
        "spider": "uz-lex",
    }
    return SourceConfig(**(fields | overrides))  # type: ignore[arg-type]


def test_a_crawl_reads_each_act_in_every_language_it_has(site: LocalSite) -> None:
    assert spider_class("html", "uz-lex") is UzLexSpider
    site.add("/robots.txt", "User-agent: *\nDisallow: /search\n", content_type="text/plain")
    feed = read("rss.xml").replace("https://lex.uz", site.base)  # the copy's own links
    site.add("/rss", feed, content_type="application/rss+xml")
    for path, name in VERSIONS.items():
        site.add(path, read(name))
    site.add("/ru/docs/7211001", read("ru_docs_7211001.html"))
    site.add("/docs/7209999", read("docs_7209999.html"))
    with Fetcher(POLICY) as fetcher:
        got = collect(source(site), fetcher)
    by_url = {d.url.removeprefix(site.base): d for d in got.documents}
    assert sorted(by_url) == sorted([*VERSIONS, "/ru/docs/7211001"])
    facts = [by_url[p].instrument for p in VERSIONS]
    assert {f.portal_id if f else None for f in facts} == {"7212345"}
    assert [by_url[p].lang for p in VERSIONS] == ["uz", "uz", "ru", "en"]
    skipped = "\n".join(got.skipped)
    assert "links to no act" in skipped and "/docs/7209999: no act text" in skipped
    # the resolution's page links its Uzbek versions, which this copy of the site lacks:
    # each is one skipped page, and nothing else is lost
    assert skipped.count("7211001") == 2 and "404" in skipped
