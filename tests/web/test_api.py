"""The web app over real HTTP (uvicorn on 127.0.0.1) against a store seeded through ingest(),
on SQLite and PostgreSQL: the JSON API, facet counts checked against the Python filter path
(store.analyst.iter_signals), full text in Russian inflections, the pages and the CSV export."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from regwatch.store import db
from regwatch.store.analyst import COLUMNS, SignalFilter, iter_signals
from regwatch.store.models import Signal
from tests.web.conftest import Seeded

ALL = 500


def _python_rows(url: str, f: SignalFilter) -> list[dict[str, Any]]:
    engine = db.make_engine(url, readonly=True)
    try:
        with db.session_scope(engine) as s:
            return list(iter_signals(s, f))
    finally:
        engine.dispose()


def _items(http: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    r = http.get("/api/signals", params={"per_page": ALL, **params})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return list(body["items"])


def test_signals_paging_and_sorting(seeded: Seeded, http: httpx.Client) -> None:
    everything = _items(http)
    assert len(everything) == len(_python_rows(seeded.url, SignalFilter())) > 6
    seen: list[int] = []
    for page in (1, 2, 3, 4):
        body = http.get("/api/signals", params={"per_page": 3, "page": page}).json()
        assert body["total"] == len(everything) and body["per_page"] == 3
        seen += [i["signal_id"] for i in body["items"]]
    assert seen == [i["signal_id"] for i in everything]  # same order, no gaps, no repeats
    scores = [i["score"] for i in everything]
    assert scores == sorted(scores, reverse=True)
    oldest = [i["detected_at"] for i in _items(http, sort="oldest")]
    assert oldest == sorted(oldest)
    assert set(everything[0]) == {*COLUMNS, "link"}


def test_facet_counts_agree_with_the_filter(seeded: Seeded, http: httpx.Client) -> None:
    def narrowed(base: SignalFilter, dimension: str, value: str) -> SignalFilter:
        """``base`` with ``dimension`` set to ``value`` instead of its own values."""
        if dimension == "category":
            return replace(base, categories=(value,))
        if dimension == "country":
            return replace(base, countries=(value,))
        if dimension == "source":
            return replace(base, sources=(value,))
        return replace(base, languages=(value,))

    for base in (SignalFilter(), SignalFilter(categories=("dushanbe_ai_center",))):
        params = {"category": list(base.categories)}
        facets = http.get("/api/facets", params=params).json()
        assert facets["total"] == len(_python_rows(seeded.url, base))
        for dimension in ("category", "country", "source", "language"):
            assert facets[dimension], dimension
            for entry in facets[dimension]:
                # a dimension's counts ignore its own filter and apply the others
                f = narrowed(base, dimension, entry["value"])
                assert entry["count"] == len(_python_rows(seeded.url, f)), (dimension, entry)
    countries = {e["value"]: e for e in http.get("/api/facets").json()["country"]}
    assert countries["tj"]["label"] == "Tajikistan"
    # by mention: the regional outlet (Dushanbe and regional cooperation) and the evil one
    assert countries["tj"]["count"] == 4


def test_filters_and_russian_inflections(seeded: Seeded, http: httpx.Client) -> None:
    def sources(**params: object) -> set[object]:
        return {i["source"] for i in _items(http, **params)}

    assert sources(q="безопасность") == {"kz-gov"}  # the text says «безопасности»
    assert sources(q="законопроекта") == {"kz-gov"}  # and «законопроект»
    assert sources(q="обсуждению") == {"kz-gov"}  # only the second version says «обсуждение»
    assert sources(q="Dushanbe OR Uzbekistan") == {"asia", "uz-news", "evil"}
    assert sources(q="(Dushanbe OR Uzbekistan) NOT servers") == {"asia", "evil"}
    assert sources(q="безопасность", country="uz") == set()
    assert sources(q="Dushanbe", source="asia", lang="en") == {"asia"}
    assert sources(country="tj") == {"asia", "evil"}
    assert sources(country=["kz", "uz"]) == {"kz-gov", "uz-news"}
    assert sources(min_score=0.9) <= sources()
    week_ago = (date.today() - timedelta(days=10)).isoformat()
    recent = _items(http, since=week_ago)
    assert {i["source"] for i in recent} == {"kz-gov", "asia"}
    older = _items(http, until=(date.today() - timedelta(days=11)).isoformat())
    assert {i["source"] for i in older} == {"uz-news", "evil"}
    r = http.get("/api/signals", params={"q": '"digital'})
    assert r.status_code == 400 and "no closing quote" in r.json()["detail"]
    r = http.get("/api/signals", params={"since": "last tuesday"})
    assert r.status_code == 400 and "use a date" in r.json()["detail"]
    assert http.get("/api/facets", params={"q": "NOT x"}).status_code == 400


def test_timeline_counts_weeks(seeded: Seeded, http: httpx.Client) -> None:
    items = _items(http)
    expected: Counter[tuple[str, str]] = Counter()
    for i in items:
        day = datetime.fromisoformat(str(i["detected_at"])).date()
        expected[((day - timedelta(days=day.weekday())).isoformat(), str(i["category"]))] += 1
    body = http.get("/api/timeline").json()
    assert body["by"] == "category" and len(body["weeks"]) >= 4
    got = Counter(
        {
            (w, s["key"]): n
            for s in body["series"]
            for w, n in zip(body["weeks"], s["counts"], strict=True)
            if n
        }
    )
    assert got == expected
    weeks = [date.fromisoformat(w) for w in body["weeks"]]
    assert all(w.weekday() == 0 for w in weeks) and weeks == sorted(weeks)
    by_country = http.get("/api/timeline", params={"by": "country", "q": "Dushanbe"}).json()
    assert {s["key"] for s in by_country["series"]} == {"tj", "regional"}
    assert http.get("/api/timeline", params={"by": "tier"}).status_code == 422


def test_document_versions_changes_and_signals(seeded: Seeded, http: httpx.Client) -> None:
    doc = http.get(f"/api/documents/{seeded.doc_ids['kz-gov']}").json()
    assert doc["version"] == 2 and [v["version"] for v in doc["versions"]] == [2, 1]
    added = [c["text"] for c in doc["versions"][0]["changes"] if c["kind"] == "add"]
    assert added == ["Общественное обсуждение законопроекта продлится до 1 декабря."]
    assert doc["versions"][1]["changes"] == []
    assert doc["link"] == "https://kz-gov.example/1" and doc["signals"]
    assert {s["document_id"] for s in doc["signals"]} == {doc["id"]}
    # each finding once, on the version it was found in; none went, so no history
    assert {s["version"] for s in doc["signals"]} == {1, 2} and doc["history"] == []
    found_late = [s for s in doc["signals"] if "Общественное" in s["sentence"]]
    assert found_late and {s["version"] for s in found_late} == {2}
    evil = http.get(f"/api/documents/{seeded.doc_ids['evil']}").json()
    assert evil["url"].startswith("javascript:") and evil["link"] == ""
    assert http.get("/api/documents/999999").status_code == 404


def test_sources_health(seeded: Seeded, http: httpx.Client) -> None:
    rows = http.get("/api/sources").json()
    assert [r["name"] for r in rows] == ["asia", "evil", "kz-gov", "uz-news"]
    assert {r["state"] for r in rows} == {"new"}  # seeded by ingest, never polled


def test_csv_export_of_the_filter(seeded: Seeded, http: httpx.Client) -> None:
    r = http.get("/export.csv", params={"q": "Dushanbe", "sort": "oldest"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    expected = _python_rows(seeded.url, SignalFilter(text="Dushanbe"))
    assert sorted(int(x["signal_id"]) for x in rows) == sorted(
        int(e["signal_id"]) for e in expected
    )
    assert list(rows[0]) == list(COLUMNS)
    assert http.get("/export.csv", params={"q": "("}).status_code == 400


def test_pages_render_with_security_headers(seeded: Seeded, http: httpx.Client) -> None:
    r = http.get("/", params={"q": "безопасность"})
    assert r.status_code == 200
    assert '<mark class="match"' in r.text and "Kazakhstan" in r.text
    assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none'
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    bad = http.get("/", params={"q": "ИИ AND"})
    assert bad.status_code == 400 and "the query ends too early" in bad.text
    for path in ("/timeline", "/timeline?by=country", "/sources",
                 f"/documents/{seeded.doc_ids['kz-gov']}"):  # fmt: skip
        page = http.get(path)
        assert page.status_code == 200 and "<script" not in page.text, path
    assert "<svg" in http.get("/timeline").text
    assert http.get("/documents/999999").status_code == 404
    spec = http.get("/openapi.json").json()
    assert {"/api/signals", "/api/facets", "/api/timeline", "/api/documents/{document_id}",
            "/api/sources"} <= set(spec["paths"])  # fmt: skip
    assert http.get("/docs").status_code == 404  # Swagger would load from a CDN
    assert http.post("/api/signals").status_code == 405


def test_the_engine_behind_the_app_cannot_write(seeded: Seeded) -> None:
    engine = db.make_engine(seeded.url, readonly=True)
    try:
        with pytest.raises(DBAPIError), db.session_scope(engine) as s:
            s.execute(update(Signal).values(score=0.0))
    finally:
        engine.dispose()
    assert min(r["score"] for r in _python_rows(seeded.url, SignalFilter())) > 0
