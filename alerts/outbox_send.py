"""Sending: a due row is claimed with a conditional UPDATE (pending → sending, attempts + 1),
sent by email or webhook, and its outcome recorded; a failure backs off exponentially."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from regwatch.alerts.email import MailServer, send_mail
from regwatch.alerts.outbox_base import EMAIL, DispatchReport, OutboxBase, PermanentError
from regwatch.alerts.push import push
from regwatch.errors import DeliveryError
from regwatch.store import db
from regwatch.store.models import Delivery, utcnow

log = logging.getLogger("regwatch.alerts")

MAX_BACKOFF = timedelta(hours=6)
BATCH = 200


class Sending(OutboxBase):
    """The outbox's sending half: due rows out, each once."""

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
                .order_by(Delivery.id)
                .limit(BATCH)
            ).all()
        for row_id, status, attempts in due:
            # the clock moves on while a batch is sent: a claim carries the time it was made
            at = now + timedelta(seconds=time.monotonic() - started)
            self._deliver_one(row_id, status, attempts, at, report)
        return report

    def _deliver_one(
        self, row_id: int, status: str, attempts: int, now: datetime, report: DispatchReport
    ) -> None:
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
        sub_name, channel, kind, target, payload = item
        note: str | None = None
        try:
            note = self._send(sub_name, channel, target, payload)
        except DeliveryError as exc:
            self._record_failure(row_id, attempts + 1, str(exc), now, report)
            return
        except Exception as exc:  # a bug in one message must not stop the others
            log.exception("delivery %s: unexpected error", row_id)
            self._record_failure(
                row_id, attempts + 1, f"{exc.__class__.__name__}: {exc}", now, report
            )
            return
        with db.session_scope(self.engine) as session:
            session.execute(
                update(Delivery)
                .where(Delivery.id == row_id)
                .values(status="sent", sent_at=utcnow(), last_error=note, next_attempt_at=None)
            )
        report.sent += 1
        log.info("sent %s %s to %s (%s)", kind, row_id, sub_name, channel)

    def _send(self, sub_name: str, channel: str, target: str, payload: str) -> str | None:
        sub = self.subscriptions.get(sub_name)
        if sub is None:
            raise PermanentError(f"subscription {sub_name!r} is no longer configured")
        if channel == EMAIL:
            if not self.smtp.host:
                raise PermanentError("smtp.host is empty; set [smtp] to send email")
            recipients = [r.strip() for r in target.split(",") if r.strip()]
            refused = send_mail(self._server(), self.smtp.sender, recipients, payload.encode())
            return f"refused by the server: {', '.join(refused)}" if refused else None
        hooks = {h.label: h for h in self._hooks(sub)}
        hook = hooks.get(channel)
        if hook is None:
            raise PermanentError(f"webhook {target} is no longer configured for {sub_name}")
        message = json.loads(payload)
        push(
            hook,
            message["title"],
            message["body"],
            allow_private=self.allow_private,
            timeout=self.smtp.timeout,
        )
        return None

    def _server(self) -> MailServer:
        password = self.env.get(self.smtp.password_env) if self.smtp.password_env else None
        return MailServer(
            host=self.smtp.host,
            port=self.smtp.port,
            security=self.smtp.security,
            username=self.smtp.username,
            password=password,
            ca_file=self.smtp.ca_file,
            timeout=self.smtp.timeout,
        )

    def _record_failure(
        self, row_id: int, attempts: int, error: str, now: datetime, report: DispatchReport
    ) -> None:
        permanent = error.startswith(PermanentError.prefix)
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
