"""/instruments, /instruments/ID, /calendar and /calendar.ics over a real uvicorn on
127.0.0.1, on SQLite and PostgreSQL; the feed parsed back with icalendar."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import httpx
import pytest
from icalendar import Calendar

from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store.instruments import list_instruments
from regwatch.web import WebOptions
from tests.web.conftest import LiveServer, Seeded, serve
from tests.web.instrument_data import SUBSCRIPTIONS, TITLE, Instruments, add_instruments


@pytest.fixture(scope="module")
def instruments(seeded: Seeded, flagger: Flagger) -> Instruments:
    return add_instruments(seeded.url, flagger, seeded.doc_ids)


@pytest.fixture(scope="module")
def site(seeded: Seeded, instruments: Instruments) -> Iterator[LiveServer]:
    with serve(seeded.url, WebOptions(subscriptions=SUBSCRIPTIONS)) as server:
        yield server


@pytest.fixture(scope="module")
def client(site: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base, timeout=30) as c:
        yield c


class Rows(HTMLParser):
    """The data-id of each instrument row, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and "instrument" in (a.get("class") or "").split():
            self.ids.append(int(a["data-id"] or 0))


def row_ids(html: str) -> list[int]:
    parser = Rows()
    parser.feed(html)
    return parser.ids


def _stored(url: str, **filters: str) -> set[int]:
    engine = db.make_engine(url)
    try:
        with db.session_scope(engine) as session:
            return {i.id for i in list_instruments(session, **filters)}  # type: ignore[arg-type]
    finally:
        engine.dispose()


def test_instruments_list_open_consultations_first_and_filters(
    client: httpx.Client, instruments: Instruments, seeded: Seeded
) -> None:
    # the seeded store's own draft articles are linked by ingest too: they show beside ours
    page = client.get("/instruments")
    assert page.status_code == 200
    ids = row_ids(page.text)
    assert ids[0] == instruments.kz  # the open consultation first
    assert {instruments.kz, instruments.uz, instruments.kg} <= set(ids) == _stored(seeded.url)
    assert f"open until {(instruments.today + timedelta(days=4)).isoformat()}" in page.text
    for query, ours in (
        ("country=uz", instruments.uz),
        ("stage=signed", instruments.uz),
        ("theme=ai_governance_body", instruments.kg),
    ):
        name, value = query.split("=")
        shown = row_ids(client.get(f"/instruments?{query}").text)
        assert ours in shown and set(shown) == _stored(seeded.url, **{name: value})
        assert instruments.kz not in shown
    bad = client.get("/instruments?stage=passed")
    assert bad.status_code == 400 and "stage &#39;passed&#39; is not one of" in bad.text
    assert "public_discussion" in bad.text
    assert client.get("/instruments?country=ru").status_code == 400


def test_instrument_page_timeline_versions_and_documents(
    client: httpx.Client, instruments: Instruments
) -> None:
    page = client.get(f"/instruments/{instruments.kz}")
    assert page.status_code == 200
    html = page.text
    # the stage timeline: discussion, then first reading; the contradicting claim is shown
    assert '<span class="stage-now">First reading (Mazhilis)</span>' in html
    timeline = html[html.index('<ol class="timeline">') : html.index("</ol>")]
    assert timeline.index("Public discussion") < timeline.index("First reading (Mazhilis)")
    assert "contradicts the current stage" in html and "The draft is open for comments." in html
    assert "Consultation open until" in html
    # the draft's two versions: diffed by article — article 2 changed, 3 removed, 4 added
    assert "changes from version 1, by article · 2 unchanged" in html
    assert "<ins> и защиту данных</ins>" in html
    assert '<div class="block removed"><span class="key">Статья 3. Маркировка</span>' in html
    assert '<div class="block added"><span class="key">Статья 4. Реестр систем' in html
    # documents in every language, each with how it was linked
    assert "in en, ru" in html and "title: same portal id 14826" in html
    assert 'href="/documents/' in html
    assert client.get("/instruments/999999").status_code == 404


def _events(body: bytes) -> dict[str, dict[str, object]]:
    cal = Calendar.from_ical(body)
    assert cal.get("prodid") == "-//regwatch//Instruments calendar//EN"
    out: dict[str, dict[str, object]] = {}
    for ev in cal.walk("VEVENT"):
        stamp = ev.decoded("dtstamp")
        assert isinstance(stamp, datetime) and stamp.utcoffset() == timedelta(0)
        start = ev.decoded("dtstart")
        assert type(start) is date and ev.decoded("dtend") == start + timedelta(days=1)
        out[str(ev["uid"])] = {
            "summary": str(ev["summary"]),
            "start": start,
            "stamp": stamp,
            "url": str(ev["url"]),
            "alarms": [a.decoded("trigger") for a in ev.walk("VALARM")],
        }
    return out


def test_ics_feed_parses_back_with_stable_uids(
    client: httpx.Client, instruments: Instruments, site: LiveServer
) -> None:
    feed = client.get("/calendar.ics")
    assert feed.status_code == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    events = _events(feed.content)
    today = instruments.today
    kz_deadline = f"regwatch-consultation-{instruments.kz}@regwatch"
    assert events[kz_deadline]["summary"] == f"Consultation closes: {TITLE}"
    assert events[kz_deadline]["start"] == today + timedelta(days=4)
    assert events[kz_deadline]["url"] == f"{site.base}/instruments/{instruments.kz}"
    stages = sorted(str(v["summary"]).split(":")[0] for v in events.values()
                    if str(v["summary"]).startswith(("Public", "First", "Signed")))  # fmt: skip
    assert stages == ["First reading (Mazhilis)", "Public discussion", "Signed"]
    # the contradicting, undated claim is no calendar event
    assert len(events) == 5  # 2 deadlines (kz, kg) + 3 dated stages
    # fetched again: the same events, the same UIDs and stamps — a client updates, not copies
    assert _events(client.get("/calendar.ics").content) == events
    # a subscription's feed: its countries, and its reminder as an alarm
    kz = _events(client.get("/calendar.ics?subscription=gr-kz").content)
    assert set(kz) == {kz_deadline} | {
        k
        for k, v in events.items()
        if k.startswith("regwatch-stage-") and not str(v["summary"]).startswith("Signed")
    }
    assert kz[kz_deadline]["alarms"] == [timedelta(days=-3)]
    uz = _events(client.get("/calendar.ics?subscription=gr-uz").content)
    assert [v["summary"] for v in uz.values()] == ["Signed: Постановление о персональных данных"]
    # the page's filters work on the feed too
    assert set(_events(client.get("/calendar.ics?country=kg").content)) == {
        f"regwatch-consultation-{instruments.kg}@regwatch"
    }
    missing = client.get("/calendar.ics?subscription=nobody")
    assert missing.status_code == 404 and "gr-kz, gr-uz" in missing.text


def test_calendar_page_lists_deadlines_and_links_the_feed(
    client: httpx.Client, instruments: Instruments
) -> None:
    page = client.get("/calendar?subscription=gr-kz")
    assert page.status_code == 200
    assert 'href="/calendar.ics?subscription=gr-kz"' in page.text
    assert "consultation closes" in page.text and "4 days left" in page.text
    assert "Постановление о персональных данных" not in page.text
    assert client.get("/calendar?subscription=nobody").status_code == 404


def test_the_feed_needs_the_token_when_one_is_set(seeded: Seeded, instruments: Instruments) -> None:
    token = "calendar-token-0123456789"
    options = WebOptions(token=token, subscriptions=SUBSCRIPTIONS)
    with serve(seeded.url, options) as server, httpx.Client(base_url=server.base) as c:
        assert c.get("/calendar.ics").status_code == 401
        ok = c.get("/calendar.ics?subscription=gr-kz", auth=("calendar", token))
        assert ok.status_code == 200 and _events(ok.content)
