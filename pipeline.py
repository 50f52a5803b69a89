"""The one ingest path: dedupe → flag → store. Feed entries and crawled pages alike.

``ingest()`` handles one Document; ``collect_sources()`` polls configured sources, ingests
what they yield and records each source's health and the run's counts. One bad source or
item never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from config import SourceConfig
from crawlers import Document, Fetcher, collect
from errors import RegwatchError
from nlp import Flagger, Match, detect
from store import db
from store import models as m
from store.queries import SourceSpec, record_failure, record_success, sync_sources

__all__ = ["IngestResult", "Outcome", "RunSummary", "collect_sources", "ingest", "language_of"]

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


@dataclass
class RunSummary:
    sources_ok: int = 0
    sources_failed: int = 0
    items_seen: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome})
    signals_new: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # source name -> error
    skipped: list[str] = field(default_factory=list)

    @property
    def stored_anything(self) -> bool:
        return bool(
            self.outcomes[Outcome.NEW] or self.outcomes[Outcome.UPDATED] or self.signals_new
        )


def _classify(session: Session, doc: Document) -> tuple[Outcome, m.Document | None]:
    row = session.scalars(
        select(m.Document).where(m.Document.canonical_url == doc.canonical_url)
    ).one_or_none()
    if row is not None:
        return (Outcome.UNCHANGED if row.content_hash == doc.content_hash else Outcome.UPDATED), row
    twin = session.scalars(
        select(m.Document).where(m.Document.content_hash == doc.content_hash).limit(1)
    ).one_or_none()
    return (Outcome.DUPLICATE, twin) if twin is not None else (Outcome.NEW, None)


def ingest(engine: Engine, flagger: Flagger, doc: Document, source_id: int) -> IngestResult:
    """Dedupe ``doc`` by canonical URL and content hash, flag it, store it and its signals.

    Flagging runs outside any transaction, so the write lock is held only to write.
    Replaying the same document (after a crash, or a second run) stores nothing twice.
    """
    with db.session_scope(engine) as session:
        outcome, row = _classify(session, doc)
        if outcome in (Outcome.UNCHANGED, Outcome.DUPLICATE):
            assert row is not None
            row.last_seen_at = m.utcnow()
            return IngestResult(outcome, row.id)
    lang = language_of(doc)
    matches = flagger.flag(doc.title, doc.text, lang)
    try:
        with db.session_scope(engine) as session:
            outcome, row = _classify(session, doc)  # again, under the write lock
            if outcome in (Outcome.UNCHANGED, Outcome.DUPLICATE):
                assert row is not None
                return IngestResult(outcome, row.id)
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
            row.version += 1
            row.title, row.content_hash, row.lang = doc.title, doc.content_hash, lang
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
            session.add_all(_signal(row.id, version.id, match) for match in matches)
            return IngestResult(outcome, row.id, len(matches))
    except IntegrityError:
        # Another writer stored the same document between our two transactions.
        with db.session_scope(engine) as session:
            outcome, row = _classify(session, doc)
            assert row is not None
            return IngestResult(Outcome.UNCHANGED, row.id)


def language_of(doc: Document) -> str:
    """The text decides; a declared language (feed, <html lang>) only for very short items,
    since feeds often declare one language for items in several."""
    if doc.lang and len(doc.title) + len(doc.text) < 200:
        return doc.lang
    return detect(f"{doc.title}\n{doc.text}")


def _signal(document_id: int, version_id: int, match: Match) -> m.Signal:
    return m.Signal(
        document_id=document_id,
        version_id=version_id,
        category=match.category,
        rule=match.rule,
        field=match.field,
        text=match.text,
        start=match.start,
        end=match.end,
        sentence=match.sentence,
        score=match.score,
        reason=match.reason,
        lang=match.lang,
    )


def collect_sources(
    engine: Engine, flagger: Flagger, fetcher: Fetcher, sources: Iterable[SourceConfig]
) -> RunSummary:
    """Poll every enabled source once; record health per source and a ``runs`` row."""
    sources = [s for s in sources if s.enabled]
    summary = RunSummary()
    with db.session_scope(engine) as session:
        ids = sync_sources(session, (_spec(s) for s in sources))
        run = m.Run(kind="collect")
        session.add(run)
        session.flush()
        run_id = run.id
    for source in sources:
        try:
            collected = collect(source, fetcher)
        except RegwatchError as exc:
            log.warning("%s: %s", source.name, exc)
            summary.sources_failed += 1
            summary.errors[source.name] = str(exc)
            with db.session_scope(engine) as session:
                record_failure(session, ids[source.name], str(exc))
            continue
        summary.sources_ok += 1
        summary.skipped.extend(f"{source.name}: {s}" for s in collected.skipped)
        for doc in collected.documents:
            summary.items_seen += 1
            try:
                result = ingest(engine, flagger, doc, ids[source.name])
            except SQLAlchemyError as exc:
                log.error("%s: could not store %s: %s", source.name, doc.url, exc)
                summary.skipped.append(f"{source.name}: {doc.url}: not stored ({exc})")
                continue
            summary.outcomes[result.outcome] += 1
            summary.signals_new += result.signals_new
        with db.session_scope(engine) as session:
            record_success(session, ids[source.name], len(collected.documents))
    with db.session_scope(engine) as session:
        run = session.get_one(m.Run, run_id)
        run.finished_at = m.utcnow()
        run.status = "ok" if not summary.sources_failed else "partial"
        run.sources_ok, run.sources_failed = summary.sources_ok, summary.sources_failed
        run.items_seen = summary.items_seen
        run.documents_new = summary.outcomes[Outcome.NEW]
        run.documents_updated = summary.outcomes[Outcome.UPDATED]
        run.signals_new = summary.signals_new
        run.error = "; ".join(f"{k}: {v}" for k, v in summary.errors.items())[:4000] or None
    return summary


def _spec(source: SourceConfig) -> SourceSpec:
    return SourceSpec(
        source.name, source.url, source.type, source.country, source.languages, source.tier
    )
