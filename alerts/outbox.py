"""The delivery outbox: every digest period and every immediate alert is written to
``deliveries`` — rendered, with its target and a stable Message-ID — before anything is sent.

It is two parts over one set of channels (:mod:`alerts.channels`), composed at the edge:
:class:`~regwatch.alerts.queue.OutboxQueue` writes the rows, each rendered by the channel that
will carry it, and :class:`~regwatch.alerts.sender.Sender` claims a row with a conditional
UPDATE (pending → sending, attempts + 1), sends it through its channel, and records the
outcome. So:

* a (subscription, channel, signal), (subscription, channel, period), (subscription, channel,
  instrument event) — a stage change — or (subscription, channel, instrument, deadline) — a
  consultation reminder — is queued once
  (unique keys), and a story raises one alert — for its strongest signal — not one per
  match, category or copy;
* a failure leaves the row pending with an exponential back-off, until ``max_attempts`` —
  unless the channel raised :class:`~regwatch.errors.PermanentError`: then it is failed at once;
* a crash between sending and recording leaves the row "sending"; once the claim is stale
  (or at a service start, when no other sender can hold it) it is sent again, once, with the
  same Message-ID, so the receiving side can drop the copy.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from regwatch.alerts.digest import Digest
from regwatch.alerts.queue import OutboxQueue
from regwatch.alerts.sender import DispatchReport, Sender, describe
from regwatch.config import SubscriptionConfig
from regwatch.store import db
from regwatch.store.models import Delivery, utcnow

__all__ = ["DeliveryRow", "DispatchReport", "Outbox", "OutboxQueue", "Sender"]


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    subscription: str
    channel: str
    kind: str
    subject: str  # period (digest), signal id (alert), event (stage) or deadline (reminder)
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    message_id: str


class Outbox:
    """Queues and sends a configuration's digests and alerts through one database."""

    def __init__(self, queue: OutboxQueue, sender: Sender) -> None:
        self.queue = queue
        self.sender = sender
        self.engine = queue.engine

    def dispatch(self, now: datetime | None = None) -> DispatchReport:
        """One cycle: queue due digests and new alerts, then send what is due (digests
        first)."""
        now = now or utcnow()
        digests = self.queue.queue_due_digests(now)
        alerts = self.queue.queue_alerts(now)
        instruments = self.queue.queue_instrument_alerts(now)
        report = self.sender.deliver(now)
        report.alerts_queued, report.digests_queued = alerts, digests
        report.instrument_alerts_queued = instruments
        return report

    # ------------------------------------------------------------------ the parts, for callers

    def queue_alerts(self, now: datetime) -> int:
        return self.queue.queue_alerts(now)

    def queue_instrument_alerts(self, now: datetime) -> int:
        return self.queue.queue_instrument_alerts(now)

    def queue_digest(self, sub: SubscriptionConfig, day: date, now: datetime) -> bool:
        return self.queue.queue_digest(sub, day, now)

    def digest_of(self, sub: SubscriptionConfig, day: date) -> Digest:
        return self.queue.digest_of(sub, day)

    def digest_status(self, sub: SubscriptionConfig, day: date) -> str | None:
        return self.queue.digest_status(sub, day)

    def deliver(self, now: datetime) -> DispatchReport:
        return self.sender.deliver(now)

    @property
    def stale_claim(self) -> timedelta:
        return self.sender.stale_claim

    # ------------------------------------------------------------------ admin

    def rows(self, status: str | None = None, limit: int = 50) -> list[DeliveryRow]:
        stmt = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
        if status:
            stmt = stmt.where(Delivery.status == status)
        with db.session_scope(self.engine) as session:
            return [
                DeliveryRow(
                    r.id,
                    r.subscription,
                    r.channel,
                    r.kind,
                    describe(r),
                    r.status,
                    r.attempts,
                    r.last_error,
                    r.created_at,
                    r.next_attempt_at,
                    r.sent_at,
                    r.message_id,
                )
                for r in session.scalars(stmt)
            ]

    def retry(self, ids: Collection[int] = ()) -> int:
        """Put failed rows (all, or those listed) back in the queue, due now."""
        stmt = update(Delivery).where(Delivery.status == "failed")
        if ids:
            stmt = stmt.where(Delivery.id.in_(list(ids)))
        with db.session_scope(self.engine) as session:
            result = session.execute(
                stmt.values(status="pending", attempts=0, next_attempt_at=None)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]
