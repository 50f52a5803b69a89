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

import json
import logging
import os
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerts.digest import Digest, story_keys
from alerts.email import MailServer, build_message, send_mail
from alerts.push import Webhook, push, webhooks_of
from alerts.render import Alert, render_alert, render_html, render_text
from alerts.report import latest_period, period_end, subscription_digest, wanted
from config import DeliveryConfig, DigestConfig, SmtpConfig, SubscriptionConfig
from errors import DeliveryError
from store import db
from store.models import Delivery, Document, DocumentVersion, Signal, utcnow
from store.queries import SignalRow, signals_between

__all__ = ["DeliveryRow", "DispatchReport", "Outbox"]

log = logging.getLogger("regwatch.alerts")

EMAIL = "email"
MAX_BACKOFF = timedelta(hours=6)
MAX_CATCH_UP = timedelta(days=7)  # a digest after downtime covers at most this much
FIRST_DIGEST_GRACE = timedelta(hours=1)  # a new subscription's first digest: only if this fresh
ALERT_MEMORY = timedelta(days=30)  # alerts older than this no longer suppress a new one
BATCH = 200


@dataclass
class DispatchReport:
    alerts_queued: int = 0
    digests_queued: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"outbox: {self.alerts_queued} alerts and {self.digests_queued} digests queued; "
            f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed"
        )


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


@dataclass(frozen=True)
class _Queued:
    subscription: str
    channel: str
    kind: str
    signal_id: int | None
    period: str | None
    target: str
    payload: str
    message_id: str
    status: str = "pending"


class Outbox:
    """Queues and sends a configuration's digests and alerts through one database."""

    def __init__(
        self,
        engine: Engine,
        *,
        subscriptions: Iterable[SubscriptionConfig],
        smtp: SmtpConfig,
        delivery: DeliveryConfig,
        digest: DigestConfig,
        allow_private_networks: bool = False,
        sources: Collection[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.engine = engine
        self.subscriptions = {s.name: s for s in subscriptions}
        self.smtp = smtp
        self.delivery = delivery
        self.digest = digest
        self.allow_private = allow_private_networks
        self.sources = sources
        self.env = os.environ if env is None else env
        self.domain = smtp.sender.rpartition("@")[2] or "localhost"
        # A claim older than this belongs to a sender that died mid-send: it outlasts the
        # longest conversation smtplib can have (each step waits at most smtp.timeout:
        # connect, EHLO, STARTTLS, EHLO, AUTH, MAIL, one RCPT per recipient, DATA, the body).
        most = max((len(s.recipients) for s in self.subscriptions.values()), default=1)
        self.stale_claim = timedelta(seconds=smtp.timeout * (10 + most) + 5)

    # ------------------------------------------------------------------ queueing

    def _hooks(self, sub: SubscriptionConfig) -> list[Webhook]:
        return webhooks_of(sub.webhooks, sub.webhook_env, self.env)

    def _message_id(self, kind: str, sub: str, key: str, channel: str) -> str:
        return f"<regwatch.{kind}.{sub}.{key}.{channel}@{self.domain}>"

    def period_bounds(self, sub: SubscriptionConfig, day: date) -> tuple[datetime, datetime]:
        """[start, end) of ``sub``'s digest for local ``day``: from the previous digest's end
        (after downtime too, up to 7 days back), else the configured window."""
        period = day.isoformat()
        with db.session_scope(self.engine) as session:
            previous = session.scalar(
                select(Delivery.period)
                .where(
                    Delivery.subscription == sub.name,
                    Delivery.kind == "digest",
                    Delivery.period < period,
                )
                .order_by(Delivery.period.desc())
                .limit(1)
            )
        end = period_end(sub, day)
        if previous:
            return max(period_end(sub, date.fromisoformat(previous)), end - MAX_CATCH_UP), end
        return end - timedelta(hours=self.digest.window_hours), end

    def digest_of(self, sub: SubscriptionConfig, day: date) -> Digest:
        """The digest ``sub`` gets (or got) for local ``day``."""
        start, end = self.period_bounds(sub, day)
        return subscription_digest(
            self.engine,
            sub,
            start,
            end,
            max_items=self.digest.max_items_per_category,
            quiet_days=self.digest.quiet_days,
            sources=self.sources,
        )

    def digest_status(self, sub: SubscriptionConfig, day: date) -> str | None:
        """The status of ``sub``'s digest for ``day`` in the outbox, None when not queued."""
        with db.session_scope(self.engine) as session:
            return session.scalar(
                select(Delivery.status).where(
                    Delivery.subscription == sub.name,
                    Delivery.channel == EMAIL,
                    Delivery.period == day.isoformat(),
                )
            )

    def queue_digest(self, sub: SubscriptionConfig, day: date, now: datetime) -> bool:
        """Queue ``sub``'s digest for local ``day`` unless it is queued already; True if new."""
        if not sub.recipients or self.digest_status(sub, day) is not None:
            return False
        period = day.isoformat()
        digest = self.digest_of(sub, day)
        message_id = self._message_id("digest", sub.name, period, EMAIL)
        target = ", ".join(sub.recipients)
        if not digest.sections and sub.quiet_day == "skip":
            item = _Queued(
                sub.name, EMAIL, "digest", None, period, target, "", message_id, "skipped"
            )
        else:
            payload = build_message(
                sender=self.smtp.sender,
                recipients=list(sub.recipients),
                subject=digest.subject,
                text=render_text(digest),
                html=render_html(digest),
                message_id=message_id,
                date=now,
            )
            item = _Queued(
                sub.name, EMAIL, "digest", None, period, target, payload.decode("ascii"), message_id
            )
        return self._insert([item]) == 1

    def queue_due_digests(self, now: datetime) -> int:
        """Queue each subscription's newest digest period that has ended and is not queued.

        After downtime that is one digest covering the gap. A subscription that has had no
        digest yet starts with a period that ended within the last hour, not with one from
        before it existed."""
        queued = 0
        with db.session_scope(self.engine) as session:
            started = set(
                session.scalars(select(Delivery.subscription).where(Delivery.kind == "digest"))
            )
        for sub in self.subscriptions.values():
            day, end = latest_period(sub, now)
            if sub.name not in started and now - end > FIRST_DIGEST_GRACE:
                continue
            try:
                queued += self.queue_digest(sub, day, now)
            except DeliveryError as exc:
                log.error("digest for %s: %s", sub.name, exc)
        return queued

    def queue_alerts(self, now: datetime) -> int:
        """Queue an alert per channel for each new story with a signal at or above a
        subscription's threshold, detected within the lookback; the strongest signal speaks
        for the story."""
        subs = [s for s in self.subscriptions.values() if s.immediate_alerts]
        if not subs:
            return 0
        since = now - timedelta(hours=self.delivery.alert_lookback_hours)
        threshold = min(s.alert_threshold for s in subs)
        with db.session_scope(self.engine) as session:
            rows = signals_between(session, since, now + timedelta(microseconds=1), threshold)
            if not rows:
                return 0
            seen = self._alerted(session, now - ALERT_MEMORY)
        items: list[_Queued] = []
        for sub in subs:
            channels = self._alert_channels(sub)
            for row in rows:  # best score first
                if not wanted(sub, row, sub.alert_threshold):
                    continue
                keys = _story_keys(row)
                for channel, hook in channels:
                    if any((sub.name, channel, *k) in seen for k in keys):
                        continue
                    seen.update((sub.name, channel, *k) for k in keys)
                    items.append(self._alert_item(sub, row, channel, hook, now))
        return self._insert(items)

    def _alert_channels(self, sub: SubscriptionConfig) -> list[tuple[str, Webhook | None]]:
        channels: list[tuple[str, Webhook | None]] = []
        if sub.alert_email and sub.recipients:
            channels.append((EMAIL, None))
        try:
            channels.extend((hook.label, hook) for hook in self._hooks(sub))
        except (DeliveryError, ValueError) as exc:  # a bad webhook must not stop the email
            log.error("alerts for %s: %s", sub.name, exc)
        return channels

    @staticmethod
    def _alerted(session: Session, since: datetime) -> set[tuple[object, ...]]:
        stmt = (
            select(
                Delivery.subscription,
                Delivery.channel,
                Signal.id,
                Signal.detected_at,
                Document.id,
                DocumentVersion.content_hash,  # the story as it was when it was alerted
                DocumentVersion.title,
                Document.published_at,
            )
            .join(Signal, Delivery.signal_id == Signal.id)
            .join(Document, Signal.document_id == Document.id)
            .join(DocumentVersion, Signal.version_id == DocumentVersion.id)
            .where(Delivery.kind == "alert", Delivery.created_at >= since)
        )
        seen: set[tuple[object, ...]] = set()
        for (
            sub,
            channel,
            signal_id,
            detected,
            doc_id,
            content_hash,
            title,
            published,
        ) in session.execute(stmt):
            keys = _keys(signal_id, doc_id, content_hash, title, published or detected)
            seen.update((sub, channel, *k) for k in keys)
        return seen

    def _alert_item(
        self,
        sub: SubscriptionConfig,
        row: SignalRow,
        channel: str,
        hook: Webhook | None,
        now: datetime,
    ) -> _Queued:
        alert = Alert.of(row, sub.name, sub.alert_threshold)
        text, html = render_alert(alert)
        message_id = self._message_id("alert", sub.name, f"s{row.signal_id}", channel)
        if hook is None:
            payload = build_message(
                sender=self.smtp.sender,
                recipients=list(sub.recipients),
                subject=alert.subject,
                text=text,
                html=html,
                message_id=message_id,
                date=now,
            ).decode("ascii")
            target = ", ".join(sub.recipients)
        else:
            payload = json.dumps({"title": alert.subject, "body": text}, ensure_ascii=False)
            target = hook.shown
        return _Queued(sub.name, channel, "alert", row.signal_id, None, target, payload, message_id)

    def _insert(self, items: list[_Queued]) -> int:
        """Insert each item in its own savepoint: a row another sender queued first is
        skipped, the rest still go in."""
        added = 0
        if not items:
            return 0
        with db.session_scope(self.engine) as session:
            for item in items:
                try:
                    with session.begin_nested():
                        session.add(
                            Delivery(
                                subscription=item.subscription,
                                channel=item.channel,
                                kind=item.kind,
                                signal_id=item.signal_id,
                                period=item.period,
                                message_id=item.message_id,
                                status=item.status,
                                target=item.target,
                                payload=item.payload,
                            )
                        )
                    added += 1
                except IntegrityError:
                    continue
        return added

    # ------------------------------------------------------------------ sending

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


class PermanentError(DeliveryError):
    """Retrying cannot help (the subscription or channel is gone)."""

    prefix = "not retried: "

    def __init__(self, message: str) -> None:
        super().__init__(self.prefix + message)


def _story_keys(row: SignalRow) -> list[tuple[object, ...]]:
    """A story is alerted once per channel, by its strongest signal, whatever else it holds
    and wherever else it turns up (the digest's notion of a story)."""
    return _keys(
        row.signal_id,
        row.document_id,
        row.content_hash,
        row.title,
        row.published_at or row.detected_at,
    )


def _keys(
    signal_id: int, document_id: int, content_hash: str, title: str, when: datetime
) -> list[tuple[object, ...]]:
    return [
        ("signal", signal_id),
        ("doc", document_id),
        *story_keys(content_hash, title, when),
    ]
