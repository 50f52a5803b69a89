"""The web UI end to end in headless Chromium (Debian's, driven by playwright) against a real
uvicorn on 127.0.0.1: search, a facet click, a document with its versions, the timeline chart
drawn (its bar colours counted in a screenshot), and hostile crawled text that runs nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from regwatch.web.chart import PALETTE
from tests.alerts.test_browser import _pixels_near, browser
from tests.web.conftest import LiveServer, Seeded

__all__ = ["browser"]  # the fixture, shared with tests/alerts
pytestmark = pytest.mark.parametrize("seeded", ["sqlite"], indirect=True)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


@pytest.fixture
def page(browser: Any, live: LiveServer) -> Any:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.dialogs = []

    def on_dialog(dialog: Any) -> None:
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    outside: list[str] = []

    def only_loopback(route: Any) -> None:  # the UI needs nothing from outside
        if route.request.url.startswith(live.base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    yield page
    assert outside == []
    page.close()


def test_search_facet_and_document(page: Any, live: LiveServer, seeded: Seeded) -> None:
    page.goto(live.base + "/")
    everything = page.locator("li.document").count()
    page.fill("input[name=q]", "безопасность")
    page.click("form.search button")
    page.wait_for_url("**/?q=*")
    found = page.locator("li.document")
    assert 0 < found.count() < everything
    assert set(found.locator(".meta").all_inner_texts()) and all(
        "kz-gov" in t for t in found.locator(".meta").all_inner_texts()
    )
    assert found.first.locator("blockquote mark.match").first.inner_text()
    mark = found.first.locator("blockquote mark.match").first
    assert _pixels_near(mark.screenshot(), (0xFF, 0xE5, 0x8A)) > 30  # highlighted

    page.goto(live.base + "/")
    tajikistan = page.locator(".facet[data-facet=country] li", has_text="Tajikistan")
    count = int(tajikistan.locator(".count").inner_text())
    tajikistan.locator("a").click()
    page.wait_for_url("**country=tj*")
    assert page.locator("li.document").count() == 2  # the two that concern Tajikistan
    assert page.locator("p.summary").inner_text().startswith(f"2 documents ({count} signals)")
    assert page.locator(".facet[data-facet=country] li.chosen", has_text="Tajikistan").count() == 1

    page.goto(live.base + "/?q=законопроект")
    page.locator("li.document a.doc").first.click()
    page.wait_for_url(f"**/documents/{seeded.doc_ids['kz-gov']}")
    assert page.locator("section.version").count() == 2
    assert "Общественное обсуждение" in page.locator(".diff ins.line").first.inner_text()
    assert page.locator("a.source-link").get_attribute("href") == "https://kz-gov.example/1"

    r = page.goto(live.base + '/?q="unclosed')
    assert r.status == 400 and "no closing quote" in page.locator(".error").inner_text()
    assert page.dialogs == []


def test_timeline_chart_is_drawn(page: Any, live: LiveServer, tmp_path: Path) -> None:
    page.goto(live.base + "/timeline")
    chart = page.locator("figure.chart svg").first
    assert page.locator("rect.bar").count() >= 4
    shot = chart.screenshot()
    (tmp_path / "timeline.png").write_bytes(shot)
    assert _pixels_near(shot, _rgb(PALETTE[0]), tolerance=12) > 500  # the biggest series
    assert _pixels_near(shot, _rgb(PALETTE[1]), tolerance=12) > 100
    page.locator("h1 a", has_text="country").click()
    page.wait_for_url("**by=country*")
    assert "Kazakhstan" in page.locator(".legend").inner_text()
    assert (
        _pixels_near(page.locator("figure.chart svg").first.screenshot(), _rgb(PALETTE[0]), 12)
        > 500
    )


def test_hostile_text_runs_nothing(page: Any, live: LiveServer, seeded: Seeded) -> None:
    for path in ("/?q=neighbours", f"/documents/{seeded.doc_ids['evil']}", "/timeline"):
        page.goto(live.base + path)
        assert page.evaluate("window.__pwned") is None, path
        assert page.evaluate("document.scripts.length") == 0, path
        assert page.locator("a[href^='javascript']").count() == 0, path
        assert page.locator("img").count() == 0, path
    page.goto(live.base + "/?q=neighbours")
    title = page.locator("li.document a.doc").first.inner_text()
    assert "<script>" in title and "{{7*7}}" in title and "onerror" in title  # text, not code
    sentence = page.locator("li.document blockquote").first.inner_text()
    assert "<img src=x" in sentence and "49" not in sentence
    assert page.locator("li.document a.source-link").count() == 0  # a javascript: URL: no link
    assert page.dialogs == []
