"""The delivery outbox: every digest period and every immediate alert is written to
``deliveries`` — rendered, with its target and a stable Message-ID — before anything is sent.

Sending claims a row with a conditional UPDATE (pending → sending, attempts + 1), sends, and
records the outcome. So:

* a (subscription, channel, signal) or (subscription, channel, period) is queued once
  (unique keys), and a story raises one alert — for its strongest signal — not one per
  match, category or copy;
* a failure leaves the row pending with an exponential back-off, until ``max_attempts``;
* a crash between sending and recording leaves the row "sending"; once the claim is stale
  (or at a service start, when no other sender can hold it) it is sent again, once, with the
  same Message-ID, so the receiving side can drop the copy.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from regwatch.alerts.outbox_base import EMAIL as EMAIL
from regwatch.alerts.outbox_base import DispatchReport
from regwatch.alerts.outbox_base import PermanentError as PermanentError
from regwatch.alerts.outbox_queue import ALERT_MEMORY as ALERT_MEMORY
from regwatch.alerts.outbox_queue import FIRST_DIGEST_GRACE as FIRST_DIGEST_GRACE
from regwatch.alerts.outbox_queue import MAX_CATCH_UP as MAX_CATCH_UP
from regwatch.alerts.outbox_queue import Queueing
from regwatch.alerts.outbox_send import BATCH as BATCH
from regwatch.alerts.outbox_send import MAX_BACKOFF as MAX_BACKOFF
from regwatch.alerts.outbox_send import Sending
from regwatch.store import db
from regwatch.store.models import Delivery, utcnow

__all__ = ["DeliveryRow", "DispatchReport", "Outbox"]

log = logging.getLogger("regwatch.alerts")


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    subscription: str
    channel: str
    kind: str
    subject: str  # period (digest) or signal id (alert)
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    message_id: str


class Outbox(Queueing, Sending):
    """Queues and sends a configuration's digests and alerts through one database."""

    # ------------------------------------------------------------------ the cycle, and admin

    def dispatch(self, now: datetime | None = None) -> DispatchReport:
        """One cycle: queue new alerts and due digests, then send what is due."""
        now = now or utcnow()
        alerts = self.queue_alerts(now)
        digests = self.queue_due_digests(now)
        report = self.deliver(now)
        report.alerts_queued, report.digests_queued = alerts, digests
        return report

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
                    r.period or f"signal {r.signal_id}",
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
