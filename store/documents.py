"""Every write of a document and what hangs off it: the document row, its versions, its
signals (with their ``signal_combos`` counters) and its full-text row — and the reads the
pipeline's dedupe decides on. The pipeline says what to write; this module writes it, inside
the transaction the caller holds (writes under :func:`store.db.write_lock`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Table, delete, func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from regwatch.crawlers import Document
from regwatch.errors import StoreError
from regwatch.instruments.claims import Claim
from regwatch.nlp import Match
from regwatch.store import models as m
from regwatch.store.fulltext import index_document, index_documents

if TYPE_CHECKING:
    from regwatch.store.evidence import StoredCapture

__all__ = [
    "Flagged",
    "Hit",
    "Keys",
    "Stored",
    "add_version",
    "adopt_guid",
    "batched",
    "insert_new",
    "mark_seen",
    "restore_version",
    "signal_history",
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
    capture: StoredCapture | None = None  # its evidence, written (signals raised) before the rows
    claim: Claim | None = None  # what it says about an instrument (instruments.linking)


@dataclass(frozen=True)
class Hit:
    """A stored document as dedupe sees it."""

    id: int
    content_hash: str
    source: str  # its source's name
    guid: str | None


@dataclass(frozen=True)
class Keys:
    """What to look up: canonical URLs, (source name, guid) pairs and content hashes."""

    urls: Collection[str]
    guids: Collection[tuple[str, str]]
    hashes: Collection[str]


@dataclass(frozen=True)
class Stored:
    """What the store holds of some canonical URLs, guids and content hashes."""

    urls: dict[str, Hit]  # canonical URL -> its document
    guids: dict[tuple[str, str], Hit]  # (source name, guid) -> its document
    twins: dict[str, tuple[int, str]]  # content hash -> (its first document's id, its URL)


def stored(session: Session, keys: Keys) -> Stored:
    """The documents stored under ``keys.urls`` and ``keys.guids``, and the first document
    stored with each of ``keys.hashes``: a few queries per 500 values."""
    D, S = m.Document, m.Source
    found = Stored({}, {}, {})
    cols = (D.canonical_url, D.id, D.content_hash, S.name, D.guid)
    for part in batched(sorted(set(keys.urls)), IN_CHUNK):
        rows = session.execute(
            select(*cols).join(S, S.id == D.source_id).where(D.canonical_url.in_(part))
        )
        found.urls.update((url, Hit(id_, h, src, g)) for url, id_, h, src, g in rows)
    for pairs in batched(sorted(set(keys.guids)), IN_CHUNK):
        rows = session.execute(
            select(*cols).join(S, S.id == D.source_id).where(tuple_(S.name, D.guid).in_(pairs))
        )
        found.guids.update(((src, g), Hit(id_, h, src, g)) for _, id_, h, src, g in rows if g)
    for part in batched(sorted(set(keys.hashes)), IN_CHUNK):
        first = select(func.min(D.id)).where(D.content_hash.in_(part)).group_by(D.content_hash)
        twins = session.execute(
            select(D.content_hash, D.id, D.canonical_url).where(D.id.in_(first))
        )
        found.twins.update((h, (id_, url)) for h, id_, url in twins)
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


def insert_new(session: Session, items: Sequence[Flagged], urls: Sequence[str]) -> list[int]:
    """New documents, each with its first version, its signals and its full-text row, in
    multi-row inserts, under the canonical URLs dedupe chose; their ids in order. Each goes
    under the source its document names."""
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
                "canonical_url": url,
                "guid": f.doc.guid,
                "title": f.doc.title,
                "lang": f.lang,
                "published_at": f.doc.published,
                "first_seen_at": now,
                "last_seen_at": now,
                "content_hash": f.doc.content_hash,
                "version": 1,
            }
            for f, url in zip(items, urls, strict=True)
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


def restore_version(session: Session, document_id: int, version: int, flagged: Flagged) -> int:
    """The page changed back: that version is current again, with its signals; the number
    of signals that are new (see :func:`_current_signals`)."""
    row = session.get_one(m.Document, document_id)
    doc = flagged.doc
    row.version, row.title, row.content_hash = version, doc.title, doc.content_hash
    row.last_seen_at = m.utcnow()
    version_id = session.scalar(
        select(m.DocumentVersion.id).where(
            m.DocumentVersion.document_id == document_id, m.DocumentVersion.version == version
        )
    )
    assert version_id is not None
    new = _current_signals(session, row, version_id, flagged.matches)
    index_document(session, row.id, flagged.terms)
    return new


def add_version(session: Session, document_id: int, flagged: Flagged) -> int:
    """The page changed: a new current version with its signals; the number of signals that
    are new (see :func:`_current_signals`). The signals go under the document's source,
    which a known document keeps."""
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
    new = _current_signals(session, row, version.id, flagged.matches)
    index_document(session, row.id, flagged.terms)
    return new


def _carry_key(values: dict[str, Any]) -> tuple[Any, ...]:
    """What makes a signal of the new version the same finding as one of the old."""
    return tuple(values[k] for k in ("category", "rule", "field", "text", "lang", "mentions"))


def _current_signals(
    session: Session, row: m.Document, version_id: int, matches: Sequence[Match]
) -> int:
    """The document's signals become the findings of ``matches`` (of version ``version_id``).
    A finding it already has stays the signal it is, untouched: its id, detection time,
    evidence from the version it was found in, and deliveries (no second alert). A finding
    the version no longer has moves to history; the new ones are inserted. Returns how many
    are new."""
    S = m.Signal
    pool: dict[tuple[Any, ...], list[int]] = {}
    for signal in session.scalars(select(S).where(S.document_id == row.id).order_by(S.id)):
        values = {c: getattr(signal, c) for c in ("category", "rule", "field", "text", "lang")}
        pool.setdefault(_carry_key(values | {"mentions": signal.mentions}), []).append(signal.id)
    fresh: list[dict[str, Any]] = []
    for match in matches:
        values = _signal_values(row.id, version_id, row.source_id, match)
        same = pool.get(_carry_key(values))
        if same:
            same.pop(0)
        else:
            fresh.append(values)
    gone = sorted(i for ids in pool.values() for i in ids)
    columns = [getattr(S, c) for c in m.SIGNAL_COLUMNS]
    for part in batched(gone, IN_CHUNK):
        session.execute(
            insert(_table(m.SignalHistory)).from_select(
                ["signal_id", *m.SIGNAL_COLUMNS],
                select(S.id, *columns).where(S.id.in_(part)).order_by(S.id),
            )
        )
        session.execute(delete(S).where(S.id.in_(part)))
    _add_combos(session, fresh)
    if fresh:
        session.execute(insert(_table(S)), fresh)
    return len(fresh)


def adopt_guid(session: Session, document_id: int, guid: str) -> None:
    """A document stored before its guid was known takes it."""
    session.execute(update(m.Document).where(m.Document.id == document_id).values(guid=guid))


def signal_history(session: Session, document_id: int) -> list[m.SignalHistory]:
    """The document's signals of earlier versions, newest first: for its page."""
    H = m.SignalHistory
    return list(
        session.scalars(
            select(H).where(H.document_id == document_id).order_by(H.version_id.desc(), H.id)
        )
    )


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
