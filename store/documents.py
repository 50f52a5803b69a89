"""Every write of a document and what hangs off it: the document row, its versions, its
signals (with their ``signal_combos`` counters) and its full-text row — and the reads the
pipeline's dedupe decides on. The pipeline says what to write; this module writes it, inside
the transaction the caller holds (writes under :func:`store.db.write_lock`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.orm import Session

from regwatch.crawlers import Document
from regwatch.errors import StoreError
from regwatch.nlp import Match
from regwatch.store import models as m
from regwatch.store.fulltext import index_document, index_documents

__all__ = [
    "Flagged",
    "Stored",
    "add_version",
    "batched",
    "insert_new",
    "mark_seen",
    "restore_version",
    "source_ids",
    "stored",
    "version_with",
]

IN_CHUNK = 500  # values per IN (...) list

T = TypeVar("T")


def batched(items: Iterable[T], n: int) -> Iterator[list[T]]:
    """``items`` in lists of ``n`` (itertools.batched arrives in Python 3.12)."""
    it = iter(items)
    while part := list(islice(it, n)):
        yield part


@dataclass(frozen=True)
class Flagged:
    """A document with what its write needs, all computed outside any transaction."""

    doc: Document
    lang: str
    matches: list[Match]
    terms: list[str]  # for the full-text index


@dataclass(frozen=True)
class Stored:
    """What the store holds of some canonical URLs and content hashes."""

    urls: dict[str, tuple[int, str]]  # canonical URL -> (document id, content hash)
    twins: dict[str, tuple[int, str]]  # content hash -> (its first document's id, its URL)


def stored(session: Session, urls: Collection[str], hashes: Collection[str]) -> Stored:
    """The documents stored under ``urls``, and the first document stored with each of
    ``hashes``: two queries per 500 values."""
    D = m.Document
    found = Stored({}, {})
    for part in batched(sorted(set(urls)), IN_CHUNK):
        rows = session.execute(
            select(D.canonical_url, D.id, D.content_hash).where(D.canonical_url.in_(part))
        )
        found.urls.update((url, (id_, h)) for url, id_, h in rows)
    for part in batched(sorted(set(hashes)), IN_CHUNK):
        first = select(func.min(D.id)).where(D.content_hash.in_(part)).group_by(D.content_hash)
        rows = session.execute(select(D.content_hash, D.id, D.canonical_url).where(D.id.in_(first)))
        found.twins.update((h, (id_, url)) for h, id_, url in rows)
    return found


def source_ids(session: Session, names: Collection[str]) -> dict[str, int]:
    """{source name: id} of the named sources the store has."""
    rows = session.execute(select(m.Source.name, m.Source.id).where(m.Source.name.in_(names)))
    return {name: id_ for name, id_ in rows}


def mark_seen(session: Session, document_ids: Iterable[int]) -> None:
    """The documents were seen again, as they are."""
    for part in batched(sorted(set(document_ids)), IN_CHUNK):
        session.execute(
            update(m.Document).where(m.Document.id.in_(part)).values(last_seen_at=m.utcnow())
        )


def _table(model: type[m.Base]) -> Table:
    return cast(Table, model.__table__)  # Core inserts: no ORM work per row


def insert_new(session: Session, items: Sequence[Flagged]) -> list[int]:
    """New documents, each with its first version, its signals and its full-text row, in
    multi-row inserts; their ids in order. Each goes under the source its document names."""
    if not items:
        return []
    names = {f.doc.source for f in items}
    sources = source_ids(session, names)
    if missing := sorted(names - sources.keys()):
        raise StoreError(f"store: no source named {missing[0]!r} in the database")
    now = m.utcnow()
    documents, versions = _table(m.Document), _table(m.DocumentVersion)
    doc_ids = session.scalars(
        insert(documents).returning(documents.c.id, sort_by_parameter_order=True),
        [
            {
                "source_id": sources[f.doc.source],
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
            for f in items
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
            for doc_id, f in zip(doc_ids, items, strict=True)
        ],
    ).all()
    signals = [
        _signal_values(doc_id, version_id, sources[f.doc.source], match) | {"detected_at": now}
        for doc_id, version_id, f in zip(doc_ids, version_ids, items, strict=True)
        for match in f.matches
    ]
    if signals:
        _add_combos(session, signals)
        session.execute(insert(_table(m.Signal)), signals)
    index_documents(session, [(doc_id, f.terms) for doc_id, f in zip(doc_ids, items, strict=True)])
    return list(doc_ids)


def version_with(session: Session, document_id: int, content_hash: str) -> int | None:
    """The number of the document's version with this content, if it had one."""
    return session.scalar(
        select(m.DocumentVersion.version).where(
            m.DocumentVersion.document_id == document_id,
            m.DocumentVersion.content_hash == content_hash,
        )
    )


def restore_version(session: Session, document_id: int, version: int, flagged: Flagged) -> None:
    """The page changed back: that version (and its signals) is current again."""
    row = session.get_one(m.Document, document_id)
    doc = flagged.doc
    row.version, row.title, row.content_hash = version, doc.title, doc.content_hash
    row.last_seen_at = m.utcnow()
    index_document(session, row.id, flagged.terms)


def add_version(session: Session, document_id: int, flagged: Flagged) -> None:
    """The page changed: a new current version with its signals. The signals go under the
    document's source, which a known URL keeps when another source brings it again."""
    row = session.get_one(m.Document, document_id)
    doc = flagged.doc
    row.version = max(v.version for v in row.versions) + 1
    row.title, row.content_hash, row.lang = doc.title, doc.content_hash, flagged.lang
    row.last_seen_at = m.utcnow()
    version = m.DocumentVersion(
        document=row,
        version=row.version,
        title=doc.title,
        text=doc.text,
        content_hash=doc.content_hash,
        fetched_at=doc.fetched_at,
    )
    session.add(version)
    session.flush()
    rows = [_signal_values(row.id, version.id, row.source_id, x) for x in flagged.matches]
    _add_combos(session, rows)
    session.add_all(m.Signal(**r) for r in rows)
    index_document(session, row.id, flagged.terms)


def _add_combos(session: Session, rows: list[dict[str, Any]]) -> None:
    """Set ``combo_id`` on ``signals`` rows: one lookup for all of them, in a fixed order."""
    if not rows:
        return
    ids = m.combo_ids(session.connection(), (_combo_key(r) for r in rows))
    for row in rows:
        row["combo_id"] = ids[_combo_key(row)]
    rows.sort(key=lambda r: r["combo_id"])  # writers lock counter rows in the same order


def _combo_key(row: dict[str, Any]) -> m.ComboKey:
    return (row["category"], row["lang"] or "", row["source_id"], row["mentions"])


def _signal_values(
    document_id: int, version_id: int, source_id: int, match: Match
) -> dict[str, Any]:
    """A ``signals`` row for ``match``."""
    return {
        "document_id": document_id,
        "version_id": version_id,
        "source_id": source_id,
        "category": match.category,
        "rule": match.rule,
        "field": match.field,
        "text": match.text,
        "start": match.start,
        "end": match.end,
        "sentence": match.sentence,
        "score": match.score,
        "reason": match.reason,
        "lang": match.lang,
        "countries": list(match.countries),
        "mentions": m.mentions_key(match.countries),
        "bodies": list(match.bodies),
        "attributes": dict(match.attributes),
    }
