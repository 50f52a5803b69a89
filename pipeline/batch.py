"""Many documents in: the same dedupe → flag → store as :func:`pipeline.ingest.ingest`, with
one read and one write transaction per batch instead of two per document.

The outcome of every document is the one it would get going through ``ingest`` one at a time
in order. New documents unrelated to anything stored or earlier in the batch go in with
multi-row inserts; a known URL (a new version), a content twin or a repeat within the batch
takes the one-document path inside the same transaction, after them. If the batch's write
fails, each document is stored alone, so one bad item never costs the others.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import TypeVar, cast

from sqlalchemy import Engine, Table, func, insert, select, update
from sqlalchemy.orm import Session

from regwatch.crawlers import Document
from regwatch.nlp import Flagger
from regwatch.pipeline.ingest import (
    MIN_TEXT_FOR_CONTENT_DEDUPE,
    Flagged,
    IngestResult,
    Outcome,
    _store,
    add_combos,
    flag_document,
    signal_values,
    store_flagged,
)
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.fulltext import index_documents

__all__ = ["BATCH", "ingest_many", "store_batch"]

log = logging.getLogger("regwatch.pipeline")

BATCH = 200  # documents per transaction: big enough to amortize, small enough to hold briefly
IN_CHUNK = 500  # values per IN (...) list


T = TypeVar("T")


def batched(items: Sequence[T], n: int) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``n`` (itertools.batched arrives in Python 3.12)."""
    it = iter(items)
    while part := list(islice(it, n)):
        yield part


class _Known:
    """What the store already holds of a batch's URLs and content hashes."""

    def __init__(self, session: Session, docs: Sequence[Document]) -> None:
        D = m.Document
        self.urls: dict[str, tuple[int, str]] = {}
        self.hashes: dict[str, int] = {}
        urls = sorted({d.canonical_url for d in docs})
        hashes = sorted({d.content_hash for d in docs if _long(d)})
        for part in batched(urls, IN_CHUNK):
            rows = session.execute(
                select(D.canonical_url, D.id, D.content_hash).where(D.canonical_url.in_(part))
            )
            self.urls.update((url, (id_, h)) for url, id_, h in rows)
        for part in batched(hashes, IN_CHUNK):
            twins = session.execute(
                select(D.content_hash, func.min(D.id)).where(D.content_hash.in_(part))
                .group_by(D.content_hash)
            )  # fmt: skip
            self.hashes.update((h, id_) for h, id_ in twins)
        self.twin_urls: dict[int, str] = {}
        for ids in batched(sorted(set(self.hashes.values())), IN_CHUNK):
            found = session.execute(select(D.id, D.canonical_url).where(D.id.in_(ids)))
            self.twin_urls.update((id_, url) for id_, url in found)

    def settled(self, doc: Document) -> IngestResult | None:
        """UNCHANGED or DUPLICATE when the store has this document as it is; else None."""
        known = self.urls.get(doc.canonical_url)
        if known is not None:
            return (
                IngestResult(Outcome.UNCHANGED, known[0]) if known[1] == doc.content_hash else None
            )
        twin = self.hashes.get(doc.content_hash) if _long(doc) else None
        return IngestResult(Outcome.DUPLICATE, twin) if twin is not None else None


def _long(doc: Document) -> bool:
    return len(doc.text) >= MIN_TEXT_FOR_CONTENT_DEDUPE


def _settled(known: _Known, chunk: Sequence[Document]) -> dict[int, IngestResult | None]:
    """What the store settles before flagging: a document it holds as it is, unless an
    earlier document of the chunk may change that (the same URL, or the twin's URL)."""
    out: dict[int, IngestResult | None] = {}
    earlier: set[str] = set()
    for i, doc in enumerate(chunk):
        result = known.settled(doc) if doc.canonical_url not in earlier else None
        twin = result is not None and result.outcome is Outcome.DUPLICATE
        if twin and result is not None and known.twin_urls.get(result.document_id) in earlier:
            result = None
        out[i] = result
        earlier.add(doc.canonical_url)
    return out


def ingest_many(
    engine: Engine,
    flagger: Flagger,
    docs: Sequence[Document],
    source_id: int,
    batch: int = BATCH,
) -> Iterator[tuple[Document, IngestResult | Exception]]:
    """Ingest ``docs`` of one source in batches; yield each with its result, or with the
    exception that kept it out (the others go on)."""
    for chunk in batched(docs, batch):
        with db.session_scope(engine) as session:
            known = _Known(session, chunk)
            settled = _settled(known, chunk)
            seen = [r.document_id for r in settled.values() if r is not None]
            for part in batched(seen, IN_CHUNK):
                session.execute(
                    update(m.Document)
                    .where(m.Document.id.in_(part))
                    .values(last_seen_at=m.utcnow())
                )
        results: dict[int, IngestResult | Exception] = {
            i: r for i, r in settled.items() if r is not None
        }
        todo: list[tuple[int, Flagged]] = []
        for i, doc in enumerate(chunk):
            if i in results:
                continue
            try:
                todo.append((i, flag_document(flagger, doc)))
            except Exception as exc:  # one bad item never stops the others
                log.exception("could not flag %s", doc.url)
                results[i] = exc
        try:
            stored = store_batch(engine, [f for _, f in todo], source_id)
            results.update((i, r) for (i, _), r in zip(todo, stored, strict=True))
        except Exception:  # the batch failed as a whole: each document on its own
            log.warning("batch of %d documents failed; storing them one by one", len(todo))
            for i, flagged in todo:
                try:
                    results[i] = store_flagged(engine, flagged, source_id)
                except Exception as exc:
                    log.exception("could not store %s", flagged.doc.url)
                    results[i] = exc
        for i, doc in enumerate(chunk):
            yield doc, results[i]


def store_batch(engine: Engine, items: Sequence[Flagged], source_id: int) -> list[IngestResult]:
    """Store flagged documents of one source in one write transaction; results in order."""
    if not items:
        return []
    with db.session_scope(engine) as session:
        return _store_batch(session, items, source_id)


def _store_batch(session: Session, items: Sequence[Flagged], source_id: int) -> list[IngestResult]:
    db.write_lock(session)
    known = _Known(session, [f.doc for f in items])  # again, under the write lock
    fresh: list[int] = []  # new, and unrelated to the store and to earlier items
    later: list[int] = []  # the one-document path, in order, after the fresh ones
    urls: set[str] = set()
    hashes: set[str] = set()
    for i, f in enumerate(items):
        d = f.doc
        related = d.canonical_url in known.urls or d.canonical_url in urls
        if _long(d):
            related = related or d.content_hash in known.hashes or d.content_hash in hashes
        (later if related else fresh).append(i)
        urls.add(d.canonical_url)
        hashes.add(d.content_hash)
    results: dict[int, IngestResult] = {}
    if fresh:
        results.update(_insert_new(session, [(i, items[i]) for i in fresh], source_id))
    for i in later:
        f = items[i]
        results[i] = _store(session, f.doc, source_id, f.lang, f.matches, f.terms)
        session.flush()
    return [results[i] for i in range(len(items))]


def _table(model: type[m.Base]) -> Table:
    return cast(Table, model.__table__)  # Core inserts: no ORM work per row


def _insert_new(
    session: Session, items: list[tuple[int, Flagged]], source_id: int
) -> dict[int, IngestResult]:
    now = m.utcnow()
    documents, versions = _table(m.Document), _table(m.DocumentVersion)
    doc_ids = session.scalars(
        insert(documents).returning(documents.c.id, sort_by_parameter_order=True),
        [
            {
                "source_id": source_id,
                "url": f.doc.url,
                "canonical_url": f.doc.canonical_url,
                "title": f.doc.title,
                "lang": f.lang,
                "published_at": f.doc.published,
                "first_seen_at": now,
                "last_seen_at": now,
                "content_hash": f.doc.content_hash,
                "version": 1,
            }
            for _, f in items
        ],
    ).all()
    version_ids = session.scalars(
        insert(versions).returning(versions.c.id, sort_by_parameter_order=True),
        [
            {
                "document_id": doc_id,
                "version": 1,
                "title": f.doc.title,
                "text": f.doc.text,
                "content_hash": f.doc.content_hash,
                "fetched_at": f.doc.fetched_at,
            }
            for doc_id, (_, f) in zip(doc_ids, items, strict=True)
        ],
    ).all()
    signals = [
        signal_values(doc_id, version_id, source_id, match) | {"detected_at": now}
        for doc_id, version_id, (_, f) in zip(doc_ids, version_ids, items, strict=True)
        for match in f.matches
    ]
    if signals:
        add_combos(session, signals)
        session.execute(insert(_table(m.Signal)), signals)
    index_documents(
        session, [(doc_id, f.terms) for doc_id, (_, f) in zip(doc_ids, items, strict=True)]
    )
    return {
        i: IngestResult(Outcome.NEW, doc_id, len(f.matches))
        for doc_id, (i, f) in zip(doc_ids, items, strict=True)
    }
