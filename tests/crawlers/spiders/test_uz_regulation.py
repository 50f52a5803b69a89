"""The regulation.gov.uz spider: listing rows and draft pages read offline from the team's
pages, and a crawl of a loopback copy of the portal through the real collection path."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from regwatch.config import SourceConfig
from regwatch.crawlers import Fetcher, FetchPolicy, collect
from regwatch.crawlers.spiders import spider_class
from regwatch.crawlers.spiders.portal_fields import norm
from regwatch.crawlers.spiders.uz_regulation import (
    STATUS_STAGES,
    UzRegulationSpider,
    draft_from_page,
    drafts_from_listing,
)
from regwatch.errors import ExtractError
from regwatch.instruments.vocabulary import InstrumentFacts, Stage
from tests.conftest import LocalSite

DATA = Path(__file__).parent / "data" / "uz_regulation"
POLICY = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
BASE = "https://regulation.gov.uz"


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def test_listing_rows_skip_the_filter_row_and_a_row_without_a_link() -> None:
    listing = drafts_from_listing(read("list_oz_1.html"), BASE + "/oz/document/index")
    assert [r.url for r in listing.rows] == [
        BASE + "/oz/d/180512",
        BASE + "/ru/d/180497",
        BASE + "/oz/d/180433",
    ]
    assert listing.rows[0].fields == {
        "developer": "Raqamli texnologiyalar vazirligi",
        "type": "Qonun",
        "published": "20/11/2026",
        "until": "05/12/2026",
    }
    assert listing.next_url == BASE + "/oz/document/index?page=2"
    assert len(listing.skipped) == 1 and "row 4 has no draft link" in listing.skipped[0]
    last = drafts_from_listing(read("list_oz_2.html"), BASE + "/oz/document/index?page=2")
    assert [r.url for r in last.rows] == [BASE + "/oz/d/179950"] and last.next_url is None


def test_a_draft_page_gives_its_instrument_facts() -> None:
    row = drafts_from_listing(read("list_oz_1.html"), BASE + "/oz/document/index").rows[0]
    page = draft_from_page(read("d_180512.html"), BASE + "/oz/d/180512", row)
    assert page.facts == InstrumentFacts(
        portal="regulation.gov.uz",
        portal_id="180512",
        jurisdiction="uz",
        kind="law",
        title="“Sun’iy intellekt to‘g‘risida”gi O‘zbekiston Respublikasi Qonuni loyihasi",
        lang="uz",
        issuing_body="Raqamli texnologiyalar vazirligi",
        stage=Stage.PUBLIC_DISCUSSION,
        stage_date=date(2026, 11, 20),
        consultation_start=date(2026, 11, 20),
        consultation_end=date(2026, 12, 5),
    )
    assert page.text.splitlines()[0] == "Status: Muhokamada"
    assert "2-modda. Yuqori xavfli sun’iy intellekt tizimlari" in page.text
    assert "Asoslantirish" not in page.text  # the tab labels are not the text
    assert page.published == datetime(2026, 11, 20, tzinfo=UTC) and page.warnings == ()


def test_a_russian_draft_whose_discussion_closed() -> None:
    page = draft_from_page(read("d_180497.html"), BASE + "/ru/d/180497")
    facts = page.facts
    assert (facts.lang, facts.kind, facts.stage, facts.stage_date) == (
        "ru",
        "resolution",
        Stage.DISCUSSION_CLOSED,
        None,
    )
    assert (facts.consultation_start, facts.consultation_end) == (
        date(2026, 11, 18),
        date(2026, 11, 28),
    )
    assert facts.issuing_body == "Министерство цифровых технологий"


def test_bad_pages_name_the_portal_the_page_and_what_is_missing() -> None:
    url = BASE + "/oz/d/180433"
    with pytest.raises(ExtractError, match=r"regulation\.gov\.uz: .*/oz/d/180433: no draft title"):
        draft_from_page(read("d_180433.html"), url)
    row = drafts_from_listing(read("list_oz_1.html"), BASE + "/oz/document/index").rows[2]
    with pytest.raises(ExtractError, match=r"/oz/d/180433: no draft text"):
        draft_from_page(read("d_180433.html"), url, row)
    with pytest.raises(ExtractError, match="no draft id in the URL"):
        draft_from_page(read("d_180512.html"), BASE + "/oz/document/180512")


def test_an_unknown_status_keeps_the_draft_and_warns() -> None:
    html = read("d_180512.html").replace("Muhokamada", "Ekspertizada")
    page = draft_from_page(html, BASE + "/oz/d/180512")
    assert page.facts.stage is None and page.facts.portal_id == "180512"
    assert page.warnings == (
        "regulation.gov.uz: https://regulation.gov.uz/oz/d/180512: status 'Ekspertizada' maps "
        "to no stage; add it to STATUS_STAGES in crawlers/spiders/uz_regulation.py",
    )


def test_every_status_in_the_fixtures_maps_to_a_stage() -> None:
    statuses = {
        draft_from_page(read(f"d_{i}.html"), f"{BASE}/oz/d/{i}").text.splitlines()[0]
        for i in ("180512", "180497", "179950")
    }
    assert statuses == {
        "Status: Muhokamada",
        "Status: Обсуждение завершено",
        "Status: Qabul qilingan",
    }
    for status in statuses:
        assert isinstance(STATUS_STAGES[norm(status.removeprefix("Status: "))], Stage)
    assert all(key == norm(key) for key in STATUS_STAGES)


def source(site: LocalSite, **overrides: object) -> SourceConfig:
    fields: dict[str, object] = {
        "name": "uz-regulation",
        "url": site.base + "/oz/document/index",
        "type": "html",
        "country": "uz",
        "languages": ("uz", "ru"),
        "tier": "official",
        "spider": "uz-regulation",
        "max_pages": 3,
    }
    return SourceConfig(**(fields | overrides))  # type: ignore[arg-type]


def serve(site: LocalSite) -> None:
    site.add("/robots.txt", "User-agent: *\nDisallow: /oz/d/179950\n", content_type="text/plain")
    site.add("/oz/document/index", read("list_oz_1.html"))
    site.add("/oz/document/index?page=2", read("list_oz_2.html"))
    site.add("/oz/d/180512", read("d_180512.html"))
    site.add("/ru/d/180497", read("d_180497.html"))
    site.add("/oz/d/180433", read("d_180433.html"))
    site.add("/oz/d/179950", read("d_179950.html"))


def test_a_crawl_reads_the_listing_pages_and_the_drafts_robots_allow(site: LocalSite) -> None:
    assert spider_class("html", "uz-regulation") is UzRegulationSpider
    serve(site)
    with Fetcher(POLICY) as fetcher:
        got = collect(source(site), fetcher)
    by_id = {str(d.instrument.portal_id): d for d in got.documents if d.instrument}
    assert sorted(by_id) == ["180497", "180512"]
    assert "/oz/d/179950" not in site.hits  # robots.txt forbids it: never fetched
    assert "/oz/document/index?page=2" in site.hits
    doc = by_id["180512"]
    assert doc.url == site.base + "/oz/d/180512" and doc.source == "uz-regulation"
    assert doc.instrument is not None and doc.instrument.consultation_end == date(2026, 12, 5)
    assert doc.lang == "uz" and by_id["180497"].lang == "ru"
    assert doc.published == datetime(2026, 11, 20, tzinfo=UTC)
    skipped = "\n".join(got.skipped)
    assert "row 4 has no draft link" in skipped
    assert "/oz/d/180433: no draft text" in skipped  # one bad page; the others went on
    assert "robots" in skipped and "179950" in skipped


def test_max_articles_and_max_pages_bound_a_crawl(site: LocalSite) -> None:
    serve(site)
    with Fetcher(POLICY) as fetcher:
        got = collect(source(site, max_articles=1, max_pages=1, robots=False), fetcher)
    assert len(got.documents) == 1
    assert "/oz/document/index?page=2" not in site.hits


def test_a_listing_without_rows_fails_the_source(site: LocalSite) -> None:
    site.add("/oz/document/index", "<html><body><div id='app'></div></body></html>")
    with Fetcher(POLICY) as fetcher, pytest.raises(ExtractError, match="lists nothing"):
        collect(source(site, robots=False), fetcher)


def test_a_discussion_period_with_another_dash() -> None:
    html = read("d_180512.html").replace("20/11/2026 - 05/12/2026", "20/11/2026 – 05/12/2026")
    facts = draft_from_page(html, BASE + "/oz/d/180512").facts
    assert (facts.consultation_start, facts.consultation_end) == (
        date(2026, 11, 20),
        date(2026, 12, 5),
    )


def test_with_evidence_on_each_draft_carries_the_capture_of_its_own_page(site: LocalSite) -> None:
    serve(site)
    with Fetcher(dataclasses.replace(POLICY, record=True)) as fetcher:
        got = collect(source(site), fetcher)
    drafts = [d for d in got.documents if d.instrument]
    assert drafts
    for doc in drafts:
        assert doc.capture is not None
        assert doc.capture.exchanges[-1].url == doc.url
