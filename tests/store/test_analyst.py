"""The analysts' read side on SQLite and PostgreSQL: filters, sorts, limits, exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text, update

from regwatch.crawlers import Document
from regwatch.errors import QuerySyntaxError
from regwatch.nlp import Flagger
from regwatch.nlp.index import search_terms
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.analyst import COLUMNS, SignalFilter, iter_documents, iter_signals
from regwatch.store.export import write_rows
from regwatch.store.fulltext import matching_documents
from regwatch.store.models import Signal, utcnow
from regwatch.store.search import parse
from regwatch.store.sources import SourceSpec, sync_sources
from tests.conftest import ingest_one

TEXTS = {
    ("kz-gov", "kz", "ru"): (
        "Министерство опубликовало законопроект об искусственном интеллекте. "
        "Документ вводит понятие цифровой безопасности для регулирования ИИ."
    ),
    ("asia", "regional", "en"): (
        "The government of Tajikistan proposed a regional AI Center in Dushanbe to coordinate "
        "artificial intelligence rules across Central Asia."
    ),
    ("uz-news", "uz", "en"): (
        "Uzbekistan's parliament discussed a draft law requiring personal data of citizens to "
        "be stored on servers located in Uzbekistan."
    ),
}


def _seed(engine: Engine, flagger: Flagger) -> None:
    with db.session_scope(engine) as s:
        sync_sources(
            s,
            [SourceSpec(n, f"https://{n}/rss", "rss", c, (lang,), "news") for n, c, lang in TEXTS],
        )
    for (name, _c, _lang), body in TEXTS.items():
        doc = Document(url=f"https://{name}/1", title=f"{name} news", text=body, source=name)
        ingest_one(engine, flagger, doc)


def _rows(engine: Engine, f: SignalFilter, **kw: object) -> list[dict[str, object]]:
    with db.session_scope(engine) as s:
        return list(iter_signals(s, f, **kw))  # type: ignore[arg-type]


def test_filters(engine: Engine, flagger: Flagger) -> None:
    _seed(engine, flagger)
    everything = _rows(engine, SignalFilter())
    assert (
        {r["category"] for r in everything}
        == {
            "data_localization",  # the uz draft "requiring personal data … stored on servers in Uzbekistan"
            "digital_security",
            "draft_instrument",
            "dushanbe_ai_center",
            "regional_cooperation",  # the tj centre "to coordinate AI rules across Central Asia"
        }
    )
    assert set(everything[0]) == set(COLUMNS)
    drafts = _rows(engine, SignalFilter(categories=("draft_instrument",)))
    assert {r["source"] for r in drafts} == {"kz-gov", "uz-news"}
    # a country matches by source, or by a mention in the signal's context
    tj = _rows(engine, SignalFilter(countries=("tj",)))
    assert [(r["source"], r["category"]) for r in tj] == [
        ("asia", "dushanbe_ai_center"),
        ("asia", "regional_cooperation"),
    ]
    assert {r["source"] for r in _rows(engine, SignalFilter(sources=("uz-news",)))} == {"uz-news"}
    assert {r["language"] for r in _rows(engine, SignalFilter(languages=("ru",)))} == {"ru"}
    assert _rows(engine, SignalFilter(min_score=0.93))[0]["category"] == "dushanbe_ai_center"
    assert len(_rows(engine, SignalFilter(), limit=2)) == 2
    assert len(_rows(engine, SignalFilter(countries=("kz", "uz")), limit=1)) == 1


def test_time_window_and_sort(engine: Engine, flagger: Flagger) -> None:
    _seed(engine, flagger)
    now = utcnow()
    with db.session_scope(engine) as s:
        s.execute(
            update(Signal)
            .where(Signal.category == "draft_instrument")
            .values(detected_at=now - timedelta(days=10))
        )
    recent = _rows(engine, SignalFilter(since=now - timedelta(days=1)))
    assert "draft_instrument" not in {r["category"] for r in recent}
    old = _rows(engine, SignalFilter(until=now - timedelta(days=1)))
    assert {r["category"] for r in old} == {"draft_instrument"}
    oldest = _rows(engine, SignalFilter(), sort="oldest")
    assert oldest[0]["category"] == "draft_instrument"
    assert oldest[-1]["detected_at"] >= oldest[0]["detected_at"]  # type: ignore[operator]


def test_formats_round_trip(engine: Engine, flagger: Flagger) -> None:
    _seed(engine, flagger)
    with db.session_scope(engine) as s:
        rows = list(iter_signals(s, SignalFilter()))
        docs = list(iter_documents(s))
    for fmt in ("csv", "json", "jsonl", "table"):
        out = io.StringIO()
        assert write_rows(rows, COLUMNS, fmt, out) == len(rows)
        text = out.getvalue()
        if fmt == "csv":
            parsed = list(csv.DictReader(io.StringIO(text)))
            assert [p["signal_id"] for p in parsed] == [str(r["signal_id"]) for r in rows]
            assert json.loads(parsed[0]["countries"]) == rows[0]["countries"]
        elif fmt == "json":
            assert [p["match"] for p in json.loads(text)] == [r["match"] for r in rows]
        elif fmt == "jsonl":
            assert [json.loads(line)["score"] for line in text.splitlines()] == [
                r["score"] for r in rows
            ]
        else:
            assert text.splitlines()[0].startswith("score") and len(text.splitlines()) == 1 + len(
                rows
            )
    assert json.loads(io.StringIO().getvalue() or "[]") == []
    empty = io.StringIO()
    write_rows([], COLUMNS, "json", empty)
    assert json.loads(empty.getvalue()) == []
    assert {d["source"] for d in docs} == {"kz-gov", "asia", "uz-news"}
    assert all(d["text"] for d in docs)


def test_full_text_search_every_inflection_on_both_engines(
    engine: Engine, flagger: Flagger
) -> None:
    _seed(engine, flagger)

    def sources(text: str) -> set[object]:
        return {r["source"] for r in _rows(engine, SignalFilter(text=text))}

    assert sources("безопасность") == {"kz-gov"}  # the text says «безопасности»
    assert sources("законопроекта") == {"kz-gov"}
    assert sources("coordinating") == sources("rule") == {"asia"}  # text: coordinate, rules
    assert sources('"personal data"') == {"uz-news"}
    assert sources('"data personal"') == set()
    assert sources("Dushanbe OR Uzbekistan") == {"asia", "uz-news"}
    assert sources("(Dushanbe OR Uzbekistan) NOT servers") == {"asia"}
    assert sources("министерство AND Dushanbe") == set()
    assert sources("x'; DROP TABLE signals; --") == set()
    assert sources("ИИ") == {"kz-gov"}
    with pytest.raises(QuerySyntaxError, match="no closing quote"):
        _rows(engine, SignalFilter(text='"digital'))


def test_search_index_follows_new_versions(engine: Engine, flagger: Flagger) -> None:
    _seed(engine, flagger)
    changed = Document(
        url="https://asia/1",
        title="asia news",
        text="The Kyrgyz government proposed a regional AI Center in Dushanbe with Bishkek.",
        source="asia",
    )
    assert ingest_one(engine, flagger, changed).outcome.value == "updated"
    assert {r["source"] for r in _rows(engine, SignalFilter(text="Bishkek"))} == {"asia"}
    assert _rows(engine, SignalFilter(text="coordinate")) == []  # only the old version said it


def test_migration_fills_the_index_for_documents_stored_before_it(engine: Engine) -> None:
    db.downgrade(engine, "0004")
    now = utcnow()
    with db.session_scope(engine) as s:  # a document stored by the previous release
        src_id = s.execute(  # as that release wrote it: sources has gained columns since
            text(
                "INSERT INTO sources (name, url, type, country, languages, tier, created_at, "
                "consecutive_failures, items_last_run) VALUES ('old', 'https://old/rss', 'rss', "
                "'kz', '[\"ru\"]', 'news', CURRENT_TIMESTAMP, 0, 0) RETURNING id"
            )
        ).scalar_one()
        doc_id = s.execute(  # documents too has gained columns since (guid)
            text(
                "INSERT INTO documents (source_id, url, canonical_url, title, lang, content_hash, "
                "version, first_seen_at, last_seen_at) VALUES (:s, 'https://old/1', "
                "'https://old/1', 'Архив', 'ru', 'h1', 1, :now, :now) RETURNING id"
            ),
            {"s": src_id, "now": now.replace(tzinfo=None)},
        ).scalar_one()
        s.add(m.DocumentVersion(document_id=doc_id, version=1, title="Архив",
                                text="Обсуждение цифровой безопасности.", content_hash="h1",
                                fetched_at=now))  # fmt: skip
    db.upgrade(engine)
    with db.session_scope(engine) as s:
        dialect = s.get_bind().dialect.name
        stmt, params = matching_documents(dialect, parse("цифровая безопасность", search_terms))
        assert list(s.execute(stmt, params).scalars()) == [doc_id]


def test_signal_view_has_the_exported_columns(engine: Engine, flagger: Flagger) -> None:
    _seed(engine, flagger)
    with engine.connect() as conn:
        result = conn.execute(text("SELECT * FROM signal_view ORDER BY signal_id"))
        assert tuple(result.keys()) == COLUMNS
        viewed = [row.signal_id for row in result]
    with db.session_scope(engine) as s:
        assert viewed == sorted(r["signal_id"] for r in iter_signals(s, SignalFilter()))


@pytest.mark.parametrize("sort", ["score", "detected", "published", "oldest"])
def test_pages_are_slices_of_the_whole_result(engine: Engine, flagger: Flagger, sort: str) -> None:
    """A page picks its ids first, then reads them in full: the same rows, in the same
    order, as slicing the unlimited result — with and without filters."""
    from regwatch.store.facets import signal_page

    _seed(engine, flagger)
    for f in (SignalFilter(), SignalFilter(countries=("kz", "tj")),
              SignalFilter(text="Dushanbe OR законопроект", sources=("asia", "kz-gov"))):  # fmt: skip
        whole = [r["signal_id"] for r in _rows(engine, f, sort=sort)]
        assert whole
        assert [r["signal_id"] for r in _rows(engine, f, sort=sort, limit=2)] == whole[:2]
        with db.session_scope(engine) as s:
            for offset in range(len(whole) + 1):
                page = signal_page(s, f, sort, offset, 2)
                assert [p["signal_id"] for p in page] == whole[offset : offset + 2]
