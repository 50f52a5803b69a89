"""Sending: a due row is claimed with a conditional UPDATE (pending → sending, attempts + 1),
sent through its channel, and its outcome recorded. A failure backs off exponentially, unless
the channel says retrying cannot help (:class:`~regwatch.errors.PermanentError`)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, case, or_, select, update

from regwatch.alerts.channels import Channels
from regwatch.config import DeliveryConfig
from regwatch.errors import DeliveryError, PermanentError
from regwatch.store import db
from regwatch.store.models import Delivery, utcnow

log = logging.getLogger("regwatch.alerts")

MAX_BACKOFF = timedelta(hours=6)
BATCH = 200


@dataclass
class DispatchReport:
    alerts_queued: int = 0
    digests_queued: int = 0
    instrument_alerts_queued: int = 0  # stage changes and consultation reminders
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"outbox: {self.alerts_queued} alerts, {self.digests_queued} digests and "
            f"{self.instrument_alerts_queued} instrument alerts queued; "
            f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed"
        )


class Sender:
    """Due rows out through their channels, each once."""

    def __init__(self, engine: Engine, channels: Channels, delivery: DeliveryConfig) -> None:
        self.engine = engine
        self.channels = channels
        self.delivery = delivery
        # A claim older than this belongs to a sender that died mid-send: it outlasts the
        # longest send any channel can make.
        self.stale_claim = timedelta(seconds=channels.longest_send() + 5)

    def deliver(self, now: datetime) -> DispatchReport:
        """Send every due row: pending ones whose time has come, and rows a dead sender left
        "sending" (claimed longer ago than any conversation lasts)."""
        report = DispatchReport()
        stale = now - self.stale_claim
        started = time.monotonic()
        with db.session_scope(self.engine) as session:
            due = session.execute(
                select(Delivery.id, Delivery.status, Delivery.attempts)
                .where(
                    or_(
                        and_(
                            Delivery.status == "pending",
                            or_(
                                Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now
                            ),
                        ),
                        and_(Delivery.status == "sending", Delivery.claimed_at <= stale),
                    )
                )
                # digests first: a flood of alerts never holds the day's digest back
                .order_by(case((Delivery.kind == "digest", 0), else_=1), Delivery.id)
                .limit(BATCH)
            ).all()
        for row_id, status, attempts in due:
            # the clock moves on while a batch is sent: a claim carries the time it was made
            at = now + timedelta(seconds=time.monotonic() - started)
            self.deliver_one(row_id, status, attempts, at, report)
        return report

    def deliver_one(
        self, row_id: int, status: str, attempts: int, now: datetime, report: DispatchReport
    ) -> None:
        """Claim the row if it is still as it was read (``status``, ``attempts``), send it
        and record the outcome; another sender's claim wins."""
        with db.session_scope(self.engine) as session:
            claimed = session.execute(
                update(Delivery)
                .where(
                    Delivery.id == row_id,
                    Delivery.status == status,
                    Delivery.attempts == attempts,
                )
                .values(status="sending", attempts=attempts + 1, claimed_at=now)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return  # another sender has it
            row = session.get_one(Delivery, row_id)
            item = (row.subscription, row.channel, row.kind, row.target, row.payload)
            if status == "sending":
                log.warning(
                    "delivery %s (%s %s for %s via %s): sending again — attempt %d was claimed "
                    "and never recorded (the sender died mid-send; the server may have it), "
                    "same Message-ID %s so the receiving side can drop a copy",
                    row_id,
                    row.kind,
                    describe(row),
                    row.subscription,
                    row.channel,
                    attempts,
                    row.message_id,
                )
        sub_name, channel, kind, target, payload = item
        try:
            note = self.channels.find(sub_name, channel, target).send(target, payload)
        except DeliveryError as exc:
            permanent = isinstance(exc, PermanentError)
            self._record_failure(row_id, attempts + 1, str(exc), permanent, now, report)
            return
        except Exception as exc:  # a bug in one message must not stop the others
            log.exception("delivery %s: unexpected error", row_id)
            error = f"{exc.__class__.__name__}: {exc}"
            self._record_failure(row_id, attempts + 1, error, False, now, report)
            return
        with db.session_scope(self.engine) as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id == row_id)
                .values(status="sent", sent_at=utcnow(), last_error=note, next_attempt_at=None)
            )
        report.sent += 1
        log.info("sent %s %s to %s (%s)", kind, row_id, sub_name, channel)

    def _record_failure(
        self,
        row_id: int,
        attempts: int,
        error: str,
        permanent: bool,
        now: datetime,
        report: DispatchReport,
    ) -> None:
        give_up = permanent or attempts >= self.delivery.max_attempts
        backoff = timedelta(
            seconds=min(
                self.delivery.retry_seconds * 2 ** min(attempts - 1, 30),
                MAX_BACKOFF.total_seconds(),
            )
        )
        with db.session_scope(self.engine) as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id == row_id)
                .values(
                    status="failed" if give_up else "pending",
                    last_error=error[:2000],
                    next_attempt_at=None if give_up else now + backoff,
                )
            )
        report.errors.append(f"delivery {row_id}: {error}")
        if give_up:
            report.failed += 1
            log.error("delivery %s failed for good after %d attempts: %s", row_id, attempts, error)
        else:
            report.retrying += 1
            log.warning(
                "delivery %s failed (attempt %d), retry in %s: %s", row_id, attempts, backoff, error
            )


def describe(row: Delivery) -> str:
    """What a row is about, for logs and ``alerts list``: its period, signal, instrument
    event or deadline."""
    if row.period:
        return row.period
    if row.instrument_event_id is not None:
        return f"instrument {row.instrument_id} event {row.instrument_event_id}"
    if row.deadline is not None:
        return f"instrument {row.instrument_id} until {row.deadline.isoformat()}"
    return f"signal {row.signal_id}"
