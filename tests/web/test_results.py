"""Search results one per document, over real HTTP on both engines: a document with many
signals is one result that lists them; full-text search finds documents that raised no
signal; the search's words and the rule's match are marked apart."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from regwatch.crawlers import Document
from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store.analyst import SignalFilter, iter_signals
from regwatch.store.models import Signal
from regwatch.store.results import document_hits
from regwatch.store.sources import SourceSpec, sync_sources
from tests.conftest import ingest_one
from tests.web.conftest import Seeded, serve

MANY = (  # one document, several categories
    "Министерство опубликовало законопроект об искусственном интеллекте. Законопроект "
    "требует хранить персональные данные граждан на серверах в Казахстане. Документ вводит "
    "понятие цифровой безопасности для регулирования ИИ."
)
PLAIN = "Парламент обсудил бюджет на следующий год и ремонт дорог в регионах страны."


@pytest.fixture
def app(engine: Engine, flagger: Flagger) -> Iterator[tuple[httpx.Client, dict[str, int]]]:
    with db.session_scope(engine) as s:
        sync_sources(s, [SourceSpec("kz-gov", "https://kz.example/rss", "rss", "kz", ("ru",),
                                    "official")])  # fmt: skip
    ids = {}
    for key, title, body in (
        ("many", "Законопроект об ИИ", MANY),
        ("plain", "Бюджет парламента", PLAIN),
        ("plain2", "Дороги", "Ремонт дорог продолжится весной."),
    ):
        doc = Document(url=f"https://kz.example/{key}", title=title, text=body, source="kz-gov")
        ids[key] = ingest_one(engine, flagger, doc).document_id
    with db.session_scope(engine) as s:
        counted = dict(s.execute(select(Signal.document_id, func.count()).group_by(
            Signal.document_id)).all())  # fmt: skip
    assert counted.get(ids["many"], 0) >= 3 and ids["plain"] not in counted
    url = engine.url.render_as_string(hide_password=False)
    with serve(url) as live, httpx.Client(base_url=live.base, timeout=30) as client:
        yield client, ids


def _results(html: str) -> list[str]:
    return re.findall(r'<li class="document[^"]*" data-document="(\d+)"', html)


def test_one_result_per_document_with_its_signals_inside(
    app: tuple[httpx.Client, dict[str, int]],
) -> None:
    http, ids = app
    page = http.get("/").text
    assert _results(page) == [str(ids["many"])]  # once, though it has several signals
    signals = int(re.search(r"\((\d+) signals\)", page).group(1))  # type: ignore[union-attr]
    assert signals >= 3 and "<strong>1</strong> document" in page
    assert f"{signals} signals</summary>" in page  # listed inside the one result
    assert page.count('<span class="category">') >= 2  # its categories
    per_signal = http.get("/", params={"view": "signals"}).text
    assert per_signal.count('<li class="signal">') == signals
    assert f"<strong>{signals}</strong> signals" in per_signal


def test_text_search_finds_documents_without_signals(
    app: tuple[httpx.Client, dict[str, int]],
) -> None:
    http, ids = app
    page = http.get("/", params={"q": "дороги"}).text  # «дорог» in both: any inflection
    assert sorted(_results(page)) == sorted([str(ids["plain"]), str(ids["plain2"])])
    assert page.count('class="document no-signal"') == 2 and "no signal" in page
    assert '<mark class="term" title="a word of your search">дорог</mark>' in page
    assert "<strong>2</strong> documents" in page
    # a filter only signals have leaves them out; one documents share keeps them
    assert _results(http.get("/", params={"q": "дороги", "min_score": "0.1"}).text) == []
    assert len(_results(http.get("/", params={"q": "дороги", "source": "kz-gov"}).text)) == 2
    assert _results(http.get("/", params={"q": "дороги", "lang": "en"}).text) == []


def test_the_search_word_and_the_rule_match_are_marked_apart(
    app: tuple[httpx.Client, dict[str, int]],
) -> None:
    http, ids = app
    page = http.get("/", params={"q": "серверах", "view": "signals"}).text
    assert '<mark class="match"' in page
    assert '<mark class="term" title="a word of your search">серверах</mark>' in page
    documents = http.get("/", params={"q": "сервер"}).text
    assert _results(documents) == [str(ids["many"])]


@pytest.mark.parametrize("sort", ["score", "detected", "oldest"])
def test_document_order_is_the_order_of_each_documents_best_signal(
    seeded: Seeded, sort: str
) -> None:
    """The page read off the signals in sort order equals grouping every signal by document
    (best score, newest or oldest detection), page by page."""
    engine = db.make_engine(seeded.url, readonly=True)
    try:
        with db.session_scope(engine) as s:
            rows = list(iter_signals(s, SignalFilter(), "score"))
            best: dict[int, tuple[Any, int]] = {}  # document → its first signal in sort order
            for r in rows:
                when = r["score"] if sort == "score" else r["detected_at"]
                key = (when, r["signal_id"])  # ties go as SORTS breaks them: by signal id
                old = best.get(r["document_id"])
                if old is None or (key < old if sort == "oldest" else key > old):
                    best[r["document_id"]] = key
            expected = sorted(best, key=lambda d: best[d], reverse=sort != "oldest")
            total, first = document_hits(s, SignalFilter(), sort, 0, 2)
            _, rest = document_hits(s, SignalFilter(), sort, 2, 50)
    finally:
        engine.dispose()
    assert total == len(expected)
    assert [h.document_id for h in first + rest] == expected
    assert all(h.score == max(r["score"] for r in rows if r["document_id"] == h.document_id)
               for h in first + rest)  # fmt: skip
