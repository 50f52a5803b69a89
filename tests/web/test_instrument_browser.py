"""/instruments, an instrument's page and /calendar in headless Chromium against a real
uvicorn on 127.0.0.1: the open consultation first and highlighted, a filter chosen in the form,
the timeline with its contradicting event drawn apart, the article diff coloured, the feed
linked — and nothing from outside, no script, no dialog."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from icalendar import Calendar

from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store.instruments import list_instruments
from regwatch.web import WebOptions
from tests.alerts.test_browser import _pixels_near, browser
from tests.web.conftest import LiveServer, Seeded, serve
from tests.web.instrument_data import SUBSCRIPTIONS, TITLE, Instruments, add_instruments

__all__ = ["browser"]
pytestmark = pytest.mark.parametrize("seeded", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def instruments(seeded: Seeded, flagger: Flagger) -> Instruments:
    return add_instruments(seeded.url, flagger, seeded.doc_ids)


@pytest.fixture(scope="module")
def site(seeded: Seeded, instruments: Instruments) -> Iterator[LiveServer]:
    with serve(seeded.url, WebOptions(subscriptions=SUBSCRIPTIONS)) as server:
        yield server


@pytest.fixture
def page(browser: Any, site: LiveServer) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    outside: list[str] = []

    def only_loopback(route: Any) -> None:
        if route.request.url.startswith(site.base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    yield page
    assert outside == [] and dialogs == []
    assert page.evaluate("document.scripts.length") == 0
    page.close()


def test_instruments_list_filter_and_instrument_page(
    page: Any, site: LiveServer, instruments: Instruments, seeded: Seeded
) -> None:
    # the seeded store's own draft articles are linked by ingest too: every instrument shows
    engine = db.make_engine(seeded.url)
    with db.session_scope(engine) as session:
        stored = list_instruments(session)
        uz = [i.id for i in list_instruments(session, country="uz")]
    engine.dispose()
    page.goto(site.base + "/instruments")
    rows = page.locator("tr.instrument")
    assert rows.count() == len(stored) >= 3
    shown = rows.evaluate_all("rows => rows.map(r => Number(r.getAttribute('data-id')))")
    assert {instruments.kz, instruments.uz, instruments.kg} <= set(shown)
    # one known only from articles is named by what it is, never "(untitled)"
    assert "(untitled)" not in rows.all_inner_texts().__str__()
    first = rows.first
    assert first.get_attribute("data-id") == str(instruments.kz)
    assert "open" in (first.get_attribute("class") or "").split()
    bg = first.evaluate("r => getComputedStyle(r).backgroundColor")
    assert bg == "rgb(255, 248, 230)"
    # choose a country in the form
    page.select_option("select[name=country]", "uz")
    page.click("form.filters button")
    page.wait_for_url("**/instruments?country=uz*")
    assert page.locator("tr.instrument").count() == len(uz) and instruments.uz in uz
    row = page.locator(f"tr.instrument[data-id='{instruments.uz}']")
    assert "Постановление о персональных данных" in row.inner_text()
    # open the Kazakh draft
    page.goto(site.base + "/instruments")
    page.click(f"tr.instrument[data-id='{instruments.kz}'] a.doc")
    page.wait_for_url(f"**/instruments/{instruments.kz}")
    assert page.locator("h1").inner_text() == TITLE
    assert page.locator(".stage-now").inner_text() == "First reading (Mazhilis)"
    events = page.locator("ol.timeline li.event")
    assert events.count() == 3
    contra = page.locator("li.event.contradicts")
    assert contra.count() == 1 and "contradicts the current stage" in contra.inner_text()
    assert contra.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 244, 232)"
    # the article diff: the added words in green, the removed article in red
    added = page.locator(".diff.articles .block.changed ins").first
    assert added.inner_text().strip() == "и защиту данных"
    assert _pixels_near(added.screenshot(), (0xE6, 0xFF, 0xEC), 6) > 50
    removed = page.locator(".diff.articles .block.removed del").first
    assert removed.inner_text().startswith("Статья 3. Маркировка")
    assert _pixels_near(removed.screenshot(), (0xFF, 0xEB, 0xE9), 6) > 50
    # documents in both languages, each opening its document page
    langs = page.locator("table.documents-of tr[data-document]").evaluate_all(
        "rows => rows.map(r => r.getAttribute('lang'))"
    )
    assert {"ru", "en"} <= set(langs)
    page.locator("table.documents-of a.doc").first.click()
    page.wait_for_url("**/documents/*")
    # narrow screens: nothing wider than the screen
    page.set_viewport_size({"width": 420, "height": 900})
    page.goto(site.base + f"/instruments/{instruments.kz}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 440


def test_calendar_page_and_its_feed(page: Any, site: LiveServer, instruments: Instruments) -> None:
    page.goto(site.base + "/calendar?subscription=gr-kz")
    deadline = page.locator("tr.entry.consultation").first
    assert "consultation closes" in deadline.inner_text() and "4 days left" in deadline.inner_text()
    href = page.locator("a.ics").get_attribute("href")
    assert href == "/calendar.ics?subscription=gr-kz"
    answer = page.request.get(site.base + href)
    assert answer.ok and answer.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(answer.body())
    uids = {str(e["uid"]) for e in cal.walk("VEVENT")}
    assert f"regwatch-consultation-{instruments.kz}@regwatch" in uids
    assert f"regwatch-consultation-{instruments.kg}@regwatch" not in uids
    # a click on an entry opens the instrument
    deadline.locator("a.doc").click()
    page.wait_for_url(f"**/instruments/{instruments.kz}")
