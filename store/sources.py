"""Source rows: what the store keeps of each configured source, and each poll's bookkeeping
(validators, not-before times, health counters). Documents are written in store/documents.py."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from regwatch.store.models import Source, utcnow

__all__ = [
    "PollState",
    "SourceSpec",
    "claim_poll",
    "poll_state",
    "poll_states",
    "record_failure",
    "record_success",
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
class PollState:
    """What the last polls left for the next one: validators and not-before times."""

    etag: str | None = None
    last_modified: str | None = None
    fresh_until: datetime | None = None  # the server's freshness (max-age, feed TTL)
    next_retry_at: datetime | None = None  # Retry-After, or our back-off after failures
    consecutive_failures: int = 0
    last_attempt_at: datetime | None = None

    def next_poll(self, interval: timedelta | None = None) -> datetime | None:
        """The one rule for when a source may be polled next: not before the server's
        freshness or a back-off says, nor — given its polling ``interval`` — before that
        interval has passed since the last attempt. None: now (a source never polled, too).
        ``collect`` leaves the interval out (the scheduler keeps it, or the user asked);
        ``run --once`` and ``status`` pass it."""
        times = [t for t in (self.fresh_until, self.next_retry_at) if t is not None]
        if interval is not None and self.last_attempt_at is not None:
            times.append(self.last_attempt_at + interval)
        return max(times) if times else None

    def due(self, now: datetime, interval: timedelta | None = None) -> bool:
        when = self.next_poll(interval)
        return when is None or when <= now


def poll_state(row: Source | None) -> PollState:
    """The poll state of a source row; a source with no row yet has never been polled."""
    if row is None:
        return PollState()
    return PollState(
        row.etag,
        row.last_modified,
        row.fresh_until,
        row.next_retry_at,
        row.consecutive_failures,
        row.last_attempt_at,
    )


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


def poll_states(session: Session, source_ids: Collection[int]) -> dict[int, PollState]:
    """The poll states of these sources, in one query."""
    rows = session.scalars(select(Source).where(Source.id.in_(list(source_ids))))
    return {r.id: poll_state(r) for r in rows}


def record_success(
    session: Session,
    source_id: int,
    items: int,
    *,
    validators: tuple[str | None, str | None] | None = None,
    fresh_until: datetime | None = None,
    skipped: int = 0,
    warning: str | None = None,
) -> None:
    """A poll worked (a 304 included), bringing ``items`` and skipping ``skipped``, noticing
    ``warning`` (bytes replaced, a cut feed). ``validators`` is (ETag, Last-Modified) to send
    next time; None keeps the stored ones."""
    row = session.get_one(Source, source_id)
    now = utcnow()
    row.last_attempt_at = now
    row.last_success_at = now
    row.consecutive_failures = 0
    row.items_last_run = items
    row.skipped_last_run = skipped
    row.last_warning = warning[:2000] if warning else None
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


def claim_poll(session: Session, source_id: int, interval: timedelta, now: datetime) -> bool:
    """Take the source's next poll for this caller, when it is due by the one rule
    (:meth:`PollState.due` with its ``interval``): ``last_attempt_at`` moves to ``now`` by a
    conditional UPDATE on the value just read, so of two workers holding a job for the same
    source only one polls it in an interval. False: not due, or another worker has it."""
    row = session.get(Source, source_id)
    if row is None or not poll_state(row).due(now, interval):
        return False
    seen = row.last_attempt_at
    cond = Source.last_attempt_at.is_(None) if seen is None else Source.last_attempt_at == seen
    claimed = session.execute(
        update(Source)
        .where(Source.id == source_id, cond)
        .values(last_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]
