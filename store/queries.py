"""Reads and writes the rest of the code needs, as plain functions over a Session."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from regwatch.store.models import Document, Signal, Source, utcnow

__all__ = [
    "PollState",
    "SignalRow",
    "SourceHealth",
    "SourceSpec",
    "counts",
    "known_urls",
    "poll_states",
    "record_failure",
    "record_success",
    "signals_between",
    "source_health",
    "sync_sources",
]


@dataclass(frozen=True)
class SourceSpec:
    """What the store keeps of a configured source (plain values, no config objects)."""

    name: str
    url: str
    type: str
    country: str
    languages: tuple[str, ...]
    tier: str


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

    def quiet_since(self, now: datetime, days: int) -> datetime | None:
        """When a source that polls fine went quiet (nothing new for ``days``), else None."""
        if self.consecutive_failures or self.last_success_at is None:
            return None
        since = self.last_new_at or self.created_at
        if since is None or now - since < timedelta(days=days):
            return None
        return since


@dataclass(frozen=True)
class PollState:
    """What the last polls left for the next one: validators and not-before times."""

    etag: str | None
    last_modified: str | None
    fresh_until: datetime | None
    next_retry_at: datetime | None
    consecutive_failures: int = 0

    def due(self, now: datetime) -> bool:
        return all(t is None or t <= now for t in (self.fresh_until, self.next_retry_at))

    @property
    def not_before(self) -> datetime | None:
        times = [t for t in (self.fresh_until, self.next_retry_at) if t is not None]
        return max(times) if times else None


def sync_sources(session: Session, specs: Iterable[SourceSpec]) -> dict[str, int]:
    """Insert or update a row per configured source; return {name: id}."""
    existing = {s.name: s for s in session.scalars(select(Source))}
    ids: dict[str, int] = {}
    for spec in specs:
        row = existing.get(spec.name)
        if row is None:
            row = Source(
                name=spec.name,
                url=spec.url,
                type=spec.type,
                country=spec.country,
                languages=list(spec.languages),
                tier=spec.tier,
            )
            session.add(row)
            session.flush()
        else:
            row.url, row.type, row.country = spec.url, spec.type, spec.country
            row.languages, row.tier = list(spec.languages), spec.tier
        ids[spec.name] = row.id
    return ids


def known_urls(session: Session, source_id: int) -> dict[str, datetime]:
    """Canonical URL → when it was last seen, for the documents of one source."""
    rows = session.execute(
        select(Document.canonical_url, Document.last_seen_at).where(Document.source_id == source_id)
    )
    return {url: seen for url, seen in rows}


def poll_states(session: Session, source_ids: Collection[int]) -> dict[int, PollState]:
    """Validators and not-before times of these sources, in one query."""
    rows = session.scalars(select(Source).where(Source.id.in_(list(source_ids))))
    return {
        r.id: PollState(
            r.etag, r.last_modified, r.fresh_until, r.next_retry_at, r.consecutive_failures
        )
        for r in rows
    }


def record_success(
    session: Session,
    source_id: int,
    items: int,
    *,
    validators: tuple[str | None, str | None] | None = None,
    fresh_until: datetime | None = None,
    skipped: int = 0,
) -> None:
    """A poll worked (a 304 included), bringing ``items`` and skipping ``skipped``.
    ``validators`` is (ETag, Last-Modified) to send next time; None keeps the stored ones."""
    row = session.get_one(Source, source_id)
    now = utcnow()
    row.last_attempt_at = now
    row.last_success_at = now
    row.consecutive_failures = 0
    row.items_last_run = items
    row.skipped_last_run = skipped
    if validators is not None:
        etag, last_modified = validators
        row.etag = etag[:1024] if etag else None
        row.last_modified = last_modified[:64] if last_modified else None
    row.fresh_until = fresh_until
    row.next_retry_at = None


def record_failure(
    session: Session, source_id: int, error: str, next_retry_at: datetime | None = None
) -> int:
    """A poll failed; return the number of failures in a row, this one included."""
    row = session.get_one(Source, source_id)
    now = utcnow()
    row.last_attempt_at = now
    row.last_error_at = now
    row.last_error = error[:2000]
    row.consecutive_failures += 1
    row.items_last_run = 0
    row.skipped_last_run = 0
    row.next_retry_at = next_retry_at
    return row.consecutive_failures


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
        )
        for r, last_new in session.execute(stmt)
    ]


def signals_between(
    session: Session, since: datetime, until: datetime, min_score: float = 0.0
) -> list[SignalRow]:
    """Signals detected in [since, until) with their document and source, best first."""
    stmt = (
        select(Signal, Document, Source)
        .join(Document, Signal.document_id == Document.id)
        .join(Source, Document.source_id == Source.id)
        .where(Signal.detected_at >= since, Signal.detected_at < until, Signal.score >= min_score)
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
        )
        for sig, doc, src in session.execute(stmt)
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
