"""One document in: dedupe by canonical URL and content hash, flag outside any transaction,
store it, its version, its signals and its full-text terms in one write transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from regwatch.crawlers import Document
from regwatch.nlp import Flagger, Match, detect
from regwatch.nlp.index import search_terms
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.fulltext import index_document

log = logging.getLogger("regwatch.pipeline")


class Outcome(StrEnum):
    NEW = "new"
    UPDATED = "updated"  # known URL, changed content: a new version
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"  # same content already stored under another URL


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    document_id: int
    signals_new: int = 0


# Same content under another URL counts as the same story only when there is enough text to
# tell stories apart: title-only items ("Проект постановления Правительства") would collide.
MIN_TEXT_FOR_CONTENT_DEDUPE = 200


def _classify(session: Session, doc: Document) -> tuple[Outcome, m.Document | None]:
    row = session.scalars(
        select(m.Document).where(m.Document.canonical_url == doc.canonical_url)
    ).one_or_none()
    if row is not None:
        return (Outcome.UNCHANGED if row.content_hash == doc.content_hash else Outcome.UPDATED), row
    if len(doc.text) < MIN_TEXT_FOR_CONTENT_DEDUPE:
        return Outcome.NEW, None
    twin = session.scalars(
        select(m.Document)
        .where(m.Document.content_hash == doc.content_hash)
        .order_by(m.Document.id)
        .limit(1)
    ).one_or_none()
    return (Outcome.DUPLICATE, twin) if twin is not None else (Outcome.NEW, None)


def ingest(engine: Engine, flagger: Flagger, doc: Document, source_id: int) -> IngestResult:
    """Dedupe ``doc`` by canonical URL and content hash, flag it, store it and its signals.

    Flagging runs outside any transaction, so the write lock is held only to write.
    Replaying the same document (after a crash, or a second run) stores nothing twice; a page
    that changes back to earlier content points the document back at that version.
    """
    with db.session_scope(engine) as session:
        outcome, row = _classify(session, doc)
        if outcome in (Outcome.UNCHANGED, Outcome.DUPLICATE):
            assert row is not None
            row.last_seen_at = m.utcnow()
            return IngestResult(outcome, row.id)
    return store_flagged(engine, flag_document(flagger, doc), source_id)


@dataclass(frozen=True)
class Flagged:
    """A document with what the write needs, all computed outside any transaction."""

    doc: Document
    lang: str
    matches: list[Match]
    terms: list[str]  # for the full-text index


def flag_document(flagger: Flagger, doc: Document) -> Flagged:
    lang = language_of(doc)
    return Flagged(
        doc, lang, flagger.flag(doc.title, doc.text, lang), search_terms(f"{doc.title}\n{doc.text}")
    )


def store_flagged(engine: Engine, flagged: Flagged, source_id: int) -> IngestResult:
    """Store a flagged document in one write transaction (deduped again under the lock)."""
    doc = flagged.doc
    try:
        with db.session_scope(engine) as session:
            return _store(session, doc, source_id, flagged.lang, flagged.matches, flagged.terms)
    except IntegrityError:
        # Another writer stored the same document between our two transactions.
        with db.session_scope(engine) as session:
            outcome, row = _classify(session, doc)
            if outcome is not Outcome.UNCHANGED or row is None:
                raise
            return IngestResult(Outcome.UNCHANGED, row.id)


def _store(
    session: Session,
    doc: Document,
    source_id: int,
    lang: str,
    matches: list[Match],
    terms: list[str],
) -> IngestResult:
    db.write_lock(session)
    outcome, row = _classify(session, doc)  # again, under the write lock
    if outcome in (Outcome.UNCHANGED, Outcome.DUPLICATE):
        assert row is not None
        return IngestResult(outcome, row.id)
    now = m.utcnow()
    if row is None:
        row = m.Document(
            source_id=source_id,
            url=doc.url,
            canonical_url=doc.canonical_url,
            title=doc.title,
            lang=lang,
            published_at=doc.published,
            content_hash=doc.content_hash,
            version=0,
        )
        session.add(row)
    else:
        earlier = session.scalars(
            select(m.DocumentVersion).where(
                m.DocumentVersion.document_id == row.id,
                m.DocumentVersion.content_hash == doc.content_hash,
            )
        ).one_or_none()
        if earlier is not None:  # changed back: that version (and its signals) is current again
            row.version, row.title, row.content_hash = earlier.version, doc.title, doc.content_hash
            row.last_seen_at = now
            index_document(session, row.id, terms)
            return IngestResult(Outcome.UPDATED, row.id)
        row.version = max(v.version for v in row.versions)
    row.version += 1
    row.title, row.content_hash, row.lang, row.last_seen_at = doc.title, doc.content_hash, lang, now
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
    # The document's source, which a known URL keeps when another source brings it again.
    rows = [signal_values(row.id, version.id, row.source_id, match) for match in matches]
    add_combos(session, rows)
    session.add_all(m.Signal(**r) for r in rows)
    index_document(session, row.id, terms)
    return IngestResult(outcome, row.id, len(matches))


@dataclass
class Preview:
    """What a source would bring, without storing anything: for ``regwatch sources add|check``."""

    items: int = 0
    titles: list[str] = field(default_factory=list)
    languages: dict[str, int] = field(default_factory=dict)
    signals: dict[str, int] = field(default_factory=dict)  # category -> count


def preview(flagger: Flagger, documents: Iterable[Document], sample: int = 5) -> Preview:
    out = Preview()
    for doc in documents:
        out.items += 1
        if len(out.titles) < sample:
            out.titles.append(doc.title or doc.url)
        lang = language_of(doc)
        out.languages[lang] = out.languages.get(lang, 0) + 1
        for match in flagger.flag(doc.title, doc.text, lang):
            out.signals[match.category] = out.signals.get(match.category, 0) + 1
    return out


def language_of(doc: Document) -> str:
    """The text decides; a declared language (feed, <html lang>) only for very short items,
    since feeds often declare one language for items in several."""
    if doc.lang and len(doc.title) + len(doc.text) < 200:
        return doc.lang
    return detect(f"{doc.title}\n{doc.text}")


def add_combos(session: Session, rows: list[dict[str, Any]]) -> None:
    """Set ``combo_id`` on ``signals`` rows: one lookup for all of them, in a fixed order."""
    if not rows:
        return
    ids = m.combo_ids(session.connection(), (combo_key(r) for r in rows))
    for row in rows:
        row["combo_id"] = ids[combo_key(row)]
    rows.sort(key=lambda r: r["combo_id"])  # writers lock counter rows in the same order


def combo_key(row: dict[str, Any]) -> m.ComboKey:
    return (row["category"], row["lang"] or "", row["source_id"], row["mentions"])


def signal_values(
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
