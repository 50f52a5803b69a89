"""The legalacts.egov.kz site spider: drafts read from listing rows (offline, on the team's
pages), and a crawl of a loopback copy of the portal whose robots.txt forbids the draft pages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from regwatch.config import SourceConfig
from regwatch.crawlers import Fetcher, FetchPolicy, collect
from regwatch.crawlers.spiders import spider_class
from regwatch.crawlers.spiders.kz_legalacts import (
    STATUS_STAGES,
    KzLegalActsSpider,
    drafts_from_listing,
    facts_of,
    listing_page_url,
)
from regwatch.crawlers.spiders.portal_fields import norm
from regwatch.errors import ExtractError
from regwatch.instruments.vocabulary import InstrumentFacts, Stage
from regwatch.nlp import Flagger
from regwatch.pipeline import collect_sources
from tests.conftest import LocalSite

DATA = Path(__file__).parent / "data" / "kz_legalacts"
LINKS = "a[href*='/npa/view']"
POLICY = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
ROBOTS = "User-agent: *\nDisallow: /npa/view\nDisallow: /application\nDisallow: /report\n"


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def test_kazakh_rows_become_drafts_with_their_labelled_fields() -> None:
    drafts, total = drafts_from_listing(
        read("list_kk_1.html"), "https://legalacts.egov.kz/list", LINKS
    )
    assert total == 2
    assert [d.url.rsplit("=", 1)[1] for d in drafts] == [
        "14951234",
        "14951177",
        "14950902",
        "14950877",
        "14950610",
    ]  # the navigation's help link (/npa/view?id=1&help=1) has no fields: not a draft
    first = drafts[0]
    assert first.url == "https://legalacts.egov.kz/npa/view?id=14951234"
    assert first.title == "«Жасанды интеллект туралы» Қазақстан Республикасы Заңының жобасы"
    assert first.fields == {
        "status": "Жария талқылауда",
        "type": "Заң жобасы",
        "developer": "Қазақстан Республикасының Жасанды интеллект және цифрлық даму министрлігі",
        "created": "20.11.2026",
        "until": "05.12.2026",
        "comments": "41",
    }
    assert first.published == datetime(2026, 11, 20, tzinfo=UTC)
    assert first.text().splitlines() == [
        first.title,
        "Статус: Жария талқылауда",
        "Вид акта: Заң жобасы",
        "Разработчик: Қазақстан Республикасының Жасанды интеллект және цифрлық даму министрлігі",
        "Дата создания: 20.11.2026",
        "Публичное обсуждение до: 05.12.2026",
    ]


def test_russian_rows_labels_in_their_own_elements_and_a_json_page_count() -> None:
    drafts, total = drafts_from_listing(
        read("list_ru.html"), "https://legalacts.egov.kz/list", LINKS
    )
    assert total == 1297
    assert [(d.fields["status"], d.fields["until"], d.published) for d in drafts] == [
        ("На публичном обсуждении", "05.12.2026", datetime(2026, 11, 20, tzinfo=UTC)),
        ("Архив", "16.10.2026", datetime(2026, 10, 2, tzinfo=UTC)),
    ]
    assert drafts[0].title == "Проект Закона Республики Казахстан «Об искусственном интеллекте»"


def test_a_listing_without_rows_or_with_a_bad_selector() -> None:
    assert drafts_from_listing(
        "<html><body><p>Техникалық жұмыстар</p></body></html>", "https://x/", LINKS
    ) == ([], 1)
    with pytest.raises(ExtractError, match="bad link_selector"):
        drafts_from_listing(read("list_ru.html"), "https://x/", "a[[")


def test_listing_page_urls() -> None:
    assert listing_page_url("https://legalacts.egov.kz/list", 3) == (
        "https://legalacts.egov.kz/list?page=3"
    )
    assert listing_page_url("https://legalacts.egov.kz/list?status=ACTIVE&page=7", 1) == (
        "https://legalacts.egov.kz/list?status=ACTIVE"
    )


def source(site: LocalSite, **overrides: object) -> SourceConfig:
    fields: dict[str, object] = {
        "name": "kz-legalacts",
        "url": site.base + "/list",
        "type": "html",
        "country": "kz",
        "languages": ("kk", "ru"),
        "tier": "official",
        "link_selector": LINKS,
        "spider": "kz-legalacts",
        "max_pages": 5,
    }
    return SourceConfig(**(fields | overrides))  # type: ignore[arg-type]


def test_a_crawl_reads_every_listing_page_and_never_a_draft_page(site: LocalSite) -> None:
    """robots.txt forbids /npa/view: the drafts come from the rows; listing pages are followed
    up to the script's totalPages (2) although max_pages (5) allows more."""
    assert spider_class("html", "kz-legalacts") is KzLegalActsSpider
    site.add("/robots.txt", ROBOTS, content_type="text/plain")
    site.add("/list", read("list_kk_1.html"))
    site.add("/list?page=2", read("list_kk_2.html"))
    site.add("/list?page=3", read("list_kk_2.html").replace("14950", "14930"))
    with Fetcher(POLICY) as fetcher:
        got = collect(source(site), fetcher)
    assert got.skipped == []
    assert len(got.documents) == 8
    assert sorted(site.hits) == ["/list", "/list?page=2", "/robots.txt"]
    assert not any(h.startswith(("/npa", "/application")) for h in site.hits)
    doc = got.documents[0]
    assert doc.url == site.base + "/npa/view?id=14951234"
    assert doc.title.startswith("«Жасанды интеллект туралы»")
    assert "Жария талқылауда" in doc.text and doc.source == "kz-legalacts"
    assert doc.published == datetime(2026, 11, 20, tzinfo=UTC)


def test_max_pages_and_max_articles_bound_a_crawl(site: LocalSite) -> None:
    site.add("/list", read("list_kk_1.html"))
    site.add("/list?page=2", read("list_kk_2.html"))
    with Fetcher(POLICY) as fetcher:
        one_page = collect(source(site, max_pages=1, robots=False), fetcher)
        three = collect(source(site, max_articles=3, robots=False), fetcher)
    assert len(one_page.documents) == 5 and "/list?page=2" not in site.hits
    assert len(three.documents) == 3


def test_a_changed_layout_fails_the_source_with_a_clear_error(site: LocalSite) -> None:
    site.add(
        "/list", "<html><body><div id='app'></div><script src='/app.js'></script></body></html>"
    )
    with Fetcher(POLICY) as fetcher, pytest.raises(ExtractError, match="lists no drafts"):
        collect(source(site, robots=False), fetcher)


def test_a_status_change_becomes_a_new_version(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    site.add("/list", read("list_kk_1.html"))
    src = source(site, max_pages=1, robots=False)
    with Fetcher(POLICY) as fetcher:
        first = collect_sources(engine, flagger, fetcher, [src])
        site.add("/list", read("list_kk_1.html").replace("Жария талқылауда", "Мұрағат", 1))
        second = collect_sources(engine, flagger, fetcher, [src])
    assert first.outcomes["new"] == 5
    assert (second.outcomes["updated"], second.outcomes["unchanged"]) == (1, 4)


def test_each_row_carries_its_instrument_facts() -> None:
    drafts, _ = drafts_from_listing(read("list_kk_1.html"), "https://legalacts.egov.kz/list", LINKS)
    assert facts_of(drafts[0]) == InstrumentFacts(
        portal="legalacts.egov.kz",
        portal_id="14951234",
        jurisdiction="kz",
        kind="law",
        title="«Жасанды интеллект туралы» Қазақстан Республикасы Заңының жобасы",
        lang="kk",
        issuing_body="Қазақстан Республикасының Жасанды интеллект және цифрлық даму министрлігі",
        stage=Stage.PUBLIC_DISCUSSION,
        stage_date=date(2026, 11, 20),
        consultation_start=date(2026, 11, 20),
        consultation_end=date(2026, 12, 5),
    )
    russian, _ = drafts_from_listing(read("list_ru.html"), "https://legalacts.egov.kz/list", LINKS)
    archived = facts_of(russian[1])
    assert (archived.lang, archived.kind, archived.stage, archived.stage_date) == (
        "ru",
        "order",
        Stage.DISCUSSION_CLOSED,
        None,
    )
    assert archived.consultation_end == date(2026, 10, 16)


def test_every_status_in_the_fixtures_maps_to_a_stage() -> None:
    statuses = {
        d.fields["status"]
        for name in ("list_kk_1.html", "list_kk_2.html", "list_ru.html")
        for d in drafts_from_listing(read(name), "https://legalacts.egov.kz/list", LINKS)[0]
    }
    assert {"Жария талқылауда", "На публичном обсуждении", "Архив"} <= statuses
    for status in statuses:
        assert isinstance(STATUS_STAGES[norm(status)], Stage), status


def test_a_crawl_gives_documents_with_facts_and_warns_of_an_unknown_status(
    site: LocalSite,
) -> None:
    site.add("/list", read("list_ru.html").replace("Архив", "На доработке"))
    with Fetcher(POLICY) as fetcher:
        got = collect(source(site, max_pages=1, robots=False), fetcher)
    facts = [d.instrument for d in got.documents]
    assert [f.portal_id if f else None for f in facts] == ["14951234", "14940001"]
    assert facts[1] is not None and facts[1].stage is None
    assert got.warnings == [
        "legalacts.egov.kz: https://legalacts.egov.kz/npa/view?id=14940001: status 'На доработке' maps to no "
        "stage; add it to STATUS_STAGES in crawlers/spiders/kz_legalacts.py"
    ]
