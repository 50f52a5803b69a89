"""The batch write path (pipeline/ingest.py) gives every document the outcome it gets going
through ``ingest`` one at a time, and leaves the store in the same state, on both engines."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select

from regwatch.crawlers import Document
from regwatch.nlp import Flagger
from regwatch.pipeline import IngestResult, Outcome, ingest
from regwatch.pipeline.ingest import flag_document, store_batch
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.fulltext import INDEX_TABLE
from regwatch.store.sources import SourceSpec, sync_sources
from tests.conftest import ingest_one

LONG = (
    "Министерство цифрового развития внесло законопроект об искусственном интеллекте. "
    "Документ вводит понятие цифровой безопасности и требования к системам ИИ высокого "
    "риска. Проект постановления опубликован для общественного обсуждения. "
)
BODIES = [
    LONG + "Вариант первый.",
    LONG + "Вариант второй, с поправками.",
    LONG + "Вариант третий.",
    "Короткая заметка о футболе.",
    "The ministry published a draft law on artificial intelligence and digital security.",
]


def _source(engine: Engine) -> int:
    with db.session_scope(engine) as s:
        spec = SourceSpec("src", "https://x/rss", "rss", "kz", ("ru",), "news")
        return sync_sources(s, [spec])["src"]


def _stream(seed: int, n: int = 60) -> list[Document]:
    """URLs and texts drawn from small pools: repeats, changes, changes back, twins under
    other URLs, short texts with equal hashes."""
    rng = random.Random(seed)
    return [
        Document(
            url=f"https://gov.example/news/{rng.randrange(12)}",
            title=f"Title {rng.randrange(3)}",
            text=rng.choice(BODIES),
            source="src",
        )
        for _ in range(n)
    ]


def _state(engine: Engine) -> dict[str, Any]:
    with db.session_scope(engine) as s:
        docs = s.execute(
            select(m.Document.canonical_url, m.Document.version, m.Document.content_hash)
            .order_by(m.Document.canonical_url)
        ).all()  # fmt: skip
        versions = s.execute(
            select(m.Document.canonical_url, m.DocumentVersion.version, m.DocumentVersion.text)
            .join(m.Document, m.Document.id == m.DocumentVersion.document_id)
            .order_by(m.Document.canonical_url, m.DocumentVersion.version)
        ).all()  # fmt: skip
        signals = s.execute(
            select(m.Document.canonical_url, m.DocumentVersion.version, m.Signal.rule,
                   m.Signal.field, m.Signal.start, m.Signal.source_id == m.Document.source_id,
                   m.Signal.mentions)
            .join(m.DocumentVersion, m.DocumentVersion.id == m.Signal.version_id)
            .join(m.Document, m.Document.id == m.Signal.document_id)
            .order_by(m.Document.canonical_url, m.DocumentVersion.version, m.Signal.rule,
                      m.Signal.start)
        ).all()  # fmt: skip
        fts = s.scalar(select(func.count()).select_from(_fts()))
    return {k: sorted(map(tuple, v)) for k, v in (("docs", docs), ("versions", versions),
            ("signals", signals))} | {"fts": fts}  # fmt: skip


def _fts() -> Any:
    from sqlalchemy import table

    return table(INDEX_TABLE)


def _wipe(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        s.execute(delete(m.Source))  # cascades to documents, versions and signals
        if engine.dialect.name == "sqlite":
            s.execute(delete(_fts()))


def _outcomes(results: list[IngestResult], engine: Engine) -> list[tuple[Outcome, str]]:
    """Outcomes with the document's URL (ids differ between runs); a duplicate without it
    (which of several documents with that content it names depends on their ids)."""
    with db.session_scope(engine) as s:
        urls = {i: u for i, u in s.execute(select(m.Document.id, m.Document.canonical_url))}
    return [
        (r.outcome, "" if r.outcome is Outcome.DUPLICATE else urls[r.document_id]) for r in results
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batches_match_one_at_a_time(engine: Engine, flagger: Flagger, seed: int) -> None:
    docs = _stream(seed)
    _source(engine)
    one_by_one = [ingest_one(engine, flagger, d) for d in docs]
    expected = (_outcomes(one_by_one, engine), _state(engine))
    assert {r.outcome for r in one_by_one} >= {Outcome.NEW, Outcome.UNCHANGED, Outcome.UPDATED}
    for size in (1, 5, 17, 200):
        _wipe(engine)
        _source(engine)
        results = []
        for doc, result in ingest(engine, flagger, docs, batch=size):
            assert isinstance(result, IngestResult), result
            results.append(result)
            assert doc is docs[len(results) - 1]
        assert (_outcomes(results, engine), _state(engine)) == expected, f"batch={size}"


def test_a_replayed_batch_stores_nothing_twice(engine: Engine, flagger: Flagger) -> None:
    """As after a crash between the commit and the report: each item once per URL, as a
    feed lists it (twins under other URLs and short texts with equal hashes included)."""
    _source(engine)
    docs = [
        Document(url=f"https://gov.example/n/{i}", title=f"T{i % 4}", text=BODIES[i % 5],
                 source="src")
        for i in range(25)
    ]  # fmt: skip
    flagged = [flag_document(flagger, d) for d in docs]
    first = store_batch(engine, flagged)
    assert {r.outcome for r in first} == {Outcome.NEW, Outcome.DUPLICATE}
    before = _state(engine)
    again = store_batch(engine, flagged)
    assert [r.outcome for r in again] == [
        Outcome.DUPLICATE if r.outcome is Outcome.DUPLICATE else Outcome.UNCHANGED for r in first
    ]
    assert _state(engine) == before


def test_one_bad_document_does_not_cost_the_batch(
    engine: Engine, flagger: Flagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    _source(engine)
    docs = [
        Document(
            url=f"https://gov.example/{i}", title="t", text=BODIES[i % 3] + str(i), source="src"
        )
        for i in range(6)
    ]
    real: Callable[..., Any] = flagger.flag

    def flag(title: str, text: str, lang: str | None = None) -> Any:
        if text.endswith("3"):
            raise ValueError("broken rule on item 3")
        return real(title, text, lang)

    monkeypatch.setattr(flagger, "flag", flag)
    out = list(ingest(engine, flagger, docs))
    bad = [r for _, r in out if isinstance(r, Exception)]
    assert len(bad) == 1 and "item 3" in str(bad[0])
    assert sum(isinstance(r, IngestResult) and r.outcome is Outcome.NEW for _, r in out) == 5


def test_a_failing_batch_falls_back_to_one_document_at_a_time(
    engine: Engine, flagger: Flagger
) -> None:
    """A title too long for the column fails the multi-row insert on PostgreSQL; on SQLite a
    URL over 2,048 characters is stored (SQLite has no length limit). Either way the other
    documents of the batch are stored."""
    _source(engine)
    docs = [Document(url=f"https://gov.example/{i}", title="t", text=BODIES[i % 3] + str(i),
                     source="src") for i in range(4)]  # fmt: skip
    docs.insert(
        2, Document(url="https://gov.example/" + "x" * 3000, title="t", text="x", source="src")
    )
    out = list(ingest(engine, flagger, docs))
    good = [r for _, r in out if isinstance(r, IngestResult)]
    assert sum(r.outcome is Outcome.NEW for r in good) >= 4
    if engine.dialect.name == "postgresql":
        assert isinstance(out[2][1], Exception)


def test_a_known_url_from_another_source_keeps_its_documents_source(
    engine: Engine, flagger: Flagger
) -> None:
    """Another source's item on a stored link (an RSS and an Atom feed of one site) is a
    duplicate, never a version; signals stay with the document's source — filters, facets
    and exports agree."""
    from regwatch.store.analyst import SignalFilter, iter_signals
    from regwatch.store.facets import facet_counts, signal_page

    with db.session_scope(engine) as s:
        ids = sync_sources(
            s,
            [SourceSpec(n, f"https://{n}/rss", "rss", "kz", ("ru",), "news") for n in ("a", "b")],
        )
    url = "https://gov.example/draft"
    ingest_one(engine, flagger, Document(url=url, title="t", text=BODIES[0], source="a"))
    again = Document(url=url, title="t", text=BODIES[1], source="b")  # changed, via b
    assert ingest_one(engine, flagger, again).outcome is Outcome.DUPLICATE
    with db.session_scope(engine) as s:
        pairs = s.execute(
            select(m.Signal.source_id, m.Document.source_id).join(
                m.Document, m.Document.id == m.Signal.document_id
            )
        ).all()
        assert pairs and all(sig == doc == ids["a"] for sig, doc in pairs)
        for name, expected in (("a", len(pairs)), ("b", 0)):
            f = SignalFilter(sources=(name,))
            assert len(list(iter_signals(s, f))) == expected
            assert len(signal_page(s, f, "score", 0, 100)) == expected
            assert facet_counts(s, f).summary.total == expected
