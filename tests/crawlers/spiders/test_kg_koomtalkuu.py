"""The koomtalkuu.gov.kg spider: listing cards and draft pages (ru, ky) read offline from the
team's pages, and a crawl of a loopback copy through the real collection path."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from regwatch.config import SourceConfig
from regwatch.crawlers import Fetcher, FetchPolicy, collect
from regwatch.crawlers.spiders import spider_class
from regwatch.crawlers.spiders.kg_koomtalkuu import (
    STATUS_STAGES,
    KgKoomtalkuuSpider,
    draft_from_page,
    drafts_from_listing,
)
from regwatch.crawlers.spiders.portal_fields import norm
from regwatch.errors import ExtractError
from regwatch.instruments.vocabulary import InstrumentFacts, Stage
from tests.conftest import LocalSite

DATA = Path(__file__).parent / "data" / "kg_koomtalkuu"
POLICY = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
BASE = "https://koomtalkuu.gov.kg"
IDS = ("2451", "2449", "2390", "2377")


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def test_the_listing_gives_one_row_per_draft_link() -> None:
    listing = drafts_from_listing(read("list_ru.html"), BASE + "/ru/projects")
    assert [r.url for r in listing.rows] == [
        BASE + "/ru/projects/2451",
        BASE + "/kg/projects/2449",
        BASE + "/ru/projects/2390",
        BASE + "/ru/projects/2377",
    ]  # the navigation's /ru/projects/help is no draft
    assert listing.rows[1].fields["developer"] == (
        "Санариптик өнүктүрүү жана инновациялык технологиялар министрлиги"
    )
    assert listing.next_url == BASE + "/ru/projects?page=2"


def test_a_russian_draft_page() -> None:
    page = draft_from_page(read("project_2451.html"), BASE + "/ru/projects/2451")
    assert page.facts == InstrumentFacts(
        portal="koomtalkuu.gov.kg",
        portal_id="2451",
        jurisdiction="kg",
        kind="law",
        title="Проект Закона Кыргызской Республики «Об искусственном интеллекте»",
        lang="ru",
        issuing_body=(
            "Министерство цифрового развития и инновационных технологий Кыргызской Республики"
        ),
        stage=Stage.PUBLIC_DISCUSSION,
        stage_date=date(2026, 11, 15),
        consultation_start=date(2026, 11, 15),
        consultation_end=date(2026, 12, 15),
    )
    assert page.text.splitlines()[:2] == [
        "Статус: Идет обсуждение",
        "Срок обсуждения: с 15.11.2026 по 15.12.2026",
    ]
    assert "Статья 2. Реестр систем искусственного интеллекта высокого риска" in page.text


def test_a_kyrgyz_draft_page_found_by_its_kyrgyz_labels() -> None:
    facts = draft_from_page(read("project_2449.html"), BASE + "/kg/projects/2449").facts
    assert (facts.lang, facts.kind, facts.stage) == ("ky", "law", Stage.PUBLIC_DISCUSSION)
    assert facts.issuing_body == "Санариптик өнүктүрүү жана инновациялык технологиялар министрлиги"
    assert (facts.consultation_start, facts.consultation_end) == (
        date(2026, 11, 1),
        date(2026, 12, 1),
    )


def test_a_closed_discussion_of_a_cabinet_resolution() -> None:
    facts = draft_from_page(read("project_2390.html"), BASE + "/ru/projects/2390").facts
    assert (facts.kind, facts.stage, facts.stage_date) == (
        "resolution",
        Stage.DISCUSSION_CLOSED,
        None,
    )


def test_a_bad_page_names_the_portal_the_page_and_what_is_missing() -> None:
    with pytest.raises(
        ExtractError, match=r"koomtalkuu\.gov\.kg: .*/ru/projects/2377: no status or discussion"
    ):
        draft_from_page(read("project_2377.html"), BASE + "/ru/projects/2377")
    html = read("project_2451.html").replace('class="project-text"', 'class="x"')
    with pytest.raises(ExtractError, match=r"/ru/projects/2451: no draft text"):
        draft_from_page(html, BASE + "/ru/projects/2451")


def test_every_status_in_the_fixtures_maps_to_a_stage() -> None:
    statuses = set()
    for i in IDS[:3]:
        prefix = "kg" if i == "2449" else "ru"
        page = draft_from_page(read(f"project_{i}.html"), f"{BASE}/{prefix}/projects/{i}")
        statuses.add(page.text.splitlines()[0].split(": ", 1)[1])
    assert statuses == {"Идет обсуждение", "Талкууда", "Обсуждение завершено"}
    for status in statuses:
        assert isinstance(STATUS_STAGES[norm(status)], Stage)


def source(site: LocalSite, **overrides: object) -> SourceConfig:
    fields: dict[str, object] = {
        "name": "kg-koomtalkuu",
        "url": site.base + "/ru/projects",
        "type": "html",
        "country": "kg",
        "languages": ("ru", "ky"),
        "tier": "official",
        "spider": "kg-koomtalkuu",
        "max_pages": 1,
    }
    return SourceConfig(**(fields | overrides))  # type: ignore[arg-type]


def test_a_crawl_reads_every_draft_and_survives_a_bad_one(site: LocalSite) -> None:
    assert spider_class("html", "kg-koomtalkuu") is KgKoomtalkuuSpider
    site.add("/robots.txt", "User-agent: *\nDisallow: /ru/cabinet\n", content_type="text/plain")
    site.add("/ru/projects", read("list_ru.html"))
    for i in IDS:
        prefix = "kg" if i == "2449" else "ru"
        site.add(f"/{prefix}/projects/{i}", read(f"project_{i}.html"))
    with Fetcher(POLICY) as fetcher:
        got = collect(source(site), fetcher)
    facts = {str(d.instrument.portal_id): d.instrument for d in got.documents if d.instrument}
    assert sorted(facts) == ["2390", "2449", "2451"]
    assert facts["2449"].lang == "ky" and facts["2451"].consultation_end == date(2026, 12, 15)
    assert len(got.skipped) == 1 and "/ru/projects/2377: no status" in got.skipped[0]
    assert "/ru/projects?page=2" not in site.hits  # max_pages = 1
    assert site.hits[0] == "/robots.txt"
