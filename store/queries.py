"""Reads the rest of the code needs, as plain functions over a Session (source rows are
written in store/sources.py, documents and signals in store/documents.py)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from regwatch.store.models import Document, DocumentCapture, Signal, Source

__all__ = ["SignalRow", "SourceHealth", "counts", "known_urls", "signals_between", "source_health"]


@dataclass(frozen=True)
class SignalRow:
    signal_id: int
    document_id: int
    category: str
    rule: str
    text: str
    sentence: str
    score: float
    reason: str
    lang: str | None
    detected_at: datetime
    title: str
    url: str
    published_at: datetime | None
    content_hash: str
    source: str
    tier: str
    country: str
    countries: tuple[str, ...] = ()  # mentioned in the signal's context
    captured: bool = False  # its document has an archived copy (store/evidence.py)


@dataclass(frozen=True)
class SourceHealth:
    name: str
    url: str
    last_success_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    items_last_run: int
    created_at: datetime | None = None
    last_new_at: datetime | None = None  # when its newest document was first seen
    next_retry_at: datetime | None = None  # Retry-After or back-off: not polled before
    skipped_last_run: int = 0  # items the last poll skipped (refused, failed, not stored)
    last_warning: str | None = None  # what the last good poll noticed: bytes replaced, a cut feed

    def quiet_since(self, now: datetime, days: int) -> datetime | None:
        """When a source that polls fine went quiet (nothing new for ``days``), else None."""
        if self.consecutive_failures or self.last_success_at is None:
            return None
        since = self.last_new_at or self.created_at
        if since is None or now - since < timedelta(days=days):
            return None
        return since


def known_urls(session: Session, source_id: int) -> dict[str, datetime]:
    """Canonical URL → when it was last seen, for the documents of one source."""
    rows = session.execute(
        select(Document.canonical_url, Document.last_seen_at).where(Document.source_id == source_id)
    )
    return {url: seen for url, seen in rows}


def source_health(session: Session, names: Collection[str] | None = None) -> list[SourceHealth]:
    """Health of the sources named (the configured ones); rows of removed sources are kept
    in the table for their documents but left out here."""
    newest = (
        select(Document.source_id, func.max(Document.first_seen_at).label("last_new"))
        .group_by(Document.source_id)
        .subquery()
    )
    stmt = (
        select(Source, newest.c.last_new)
        .outerjoin(newest, newest.c.source_id == Source.id)
        .order_by(Source.name)
    )
    if names is not None:
        stmt = stmt.where(Source.name.in_(list(names)))
    return [
        SourceHealth(
            r.name,
            r.url,
            r.last_success_at,
            r.last_error,
            r.consecutive_failures,
            r.items_last_run,
            r.created_at,
            last_new,
            r.next_retry_at,
            r.skipped_last_run,
            r.last_warning,
        )
        for r, last_new in session.execute(stmt)
    ]


def signals_between(
    session: Session,
    since: datetime,
    until: datetime,
    min_score: float = 0.0,
    *,
    after_id: int = 0,
) -> list[SignalRow]:
    """Signals detected in [since, until) with their document and source, best first; only
    those with an id above ``after_id`` (what a reader that has seen the rest asks for)."""
    captured = (
        exists().where(DocumentCapture.document_id == Document.id).correlate(Document).label("c")
    )
    stmt = (
        select(Signal, Document, Source, captured)
        .join(Document, Signal.document_id == Document.id)
        .join(Source, Document.source_id == Source.id)
        .where(Signal.detected_at >= since, Signal.detected_at < until, Signal.score >= min_score)
        .where(Signal.id > after_id)
        .order_by(Signal.score.desc(), Signal.id)
    )
    return [
        SignalRow(
            signal_id=sig.id,
            document_id=doc.id,
            category=sig.category,
            rule=sig.rule,
            text=sig.text,
            sentence=sig.sentence,
            score=sig.score,
            reason=sig.reason,
            lang=sig.lang,
            detected_at=sig.detected_at,
            title=doc.title,
            url=doc.url,
            published_at=doc.published_at,
            content_hash=doc.content_hash,
            source=src.name,
            tier=src.tier,
            country=src.country,
            countries=tuple(sig.countries or ()),
            captured=bool(has_capture),
        )
        for sig, doc, src, has_capture in session.execute(stmt)
    ]


def counts(session: Session) -> dict[str, int]:
    """Row counts for the summary: sources, documents, signals, and signals per category."""
    out = {
        "sources": session.scalar(select(func.count()).select_from(Source)) or 0,
        "documents": session.scalar(select(func.count()).select_from(Document)) or 0,
        "signals": session.scalar(select(func.count()).select_from(Signal)) or 0,
    }
    for category, n in session.execute(
        select(Signal.category, func.count()).group_by(Signal.category).order_by(Signal.category)
    ):
        out[f"signals.{category}"] = n
    return out
