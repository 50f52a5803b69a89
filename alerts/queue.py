"""Queueing: each digest period and each immediate alert is written to ``deliveries`` for
each channel that carries it, rendered by that channel, with its target and a stable
Message-ID, once (unique keys) — before anything is sent."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from regwatch.alerts.channels import Channel, Channels, Content
from regwatch.alerts.digest import Digest, story_keys
from regwatch.alerts.render import Alert, render_alert, render_html, render_text
from regwatch.alerts.report import latest_period, period_end, subscription_digest, wanted
from regwatch.config import DeliveryConfig, DigestConfig, SubscriptionConfig
from regwatch.errors import DeliveryError
from regwatch.store import db
from regwatch.store.analyst import text_documents
from regwatch.store.models import Delivery, Document, DocumentVersion, Signal
from regwatch.store.queries import SignalRow, signals_between

log = logging.getLogger("regwatch.alerts")

MAX_CATCH_UP = timedelta(days=7)  # a digest after downtime covers at most this much
FIRST_DIGEST_GRACE = timedelta(hours=1)  # a new subscription's first digest: only if this fresh
ALERT_MEMORY = timedelta(days=30)  # alerts older than this no longer suppress a new one


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


class OutboxQueue:
    """Digests and alerts into ``deliveries``, through the channels each subscription uses."""

    def __init__(
        self,
        engine: Engine,
        *,
        subscriptions: Iterable[SubscriptionConfig],
        channels: Channels,
        delivery: DeliveryConfig,
        digest: DigestConfig,
        sources: Collection[str] | None = None,
    ) -> None:
        self.engine = engine
        self.subscriptions = {s.name: s for s in subscriptions}
        self.channels = channels
        self.delivery = delivery
        self.digest = digest
        self.sources = sources

    def _message_id(self, kind: str, sub: str, key: str, channel: str) -> str:
        return f"<regwatch.{kind}.{sub}.{key}.{channel}@{self.channels.message_domain}>"

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
                    Delivery.kind == "digest",
                    Delivery.period == day.isoformat(),
                )
            )

    def queue_digest(self, sub: SubscriptionConfig, day: date, now: datetime) -> bool:
        """Queue ``sub``'s digest for local ``day`` unless it is queued already; True if new."""
        channels = self.channels.of(sub, "digest")
        if not channels or self.digest_status(sub, day) is not None:
            return False
        period = day.isoformat()
        digest = self.digest_of(sub, day)
        content = None  # a quiet day to skip: a row to remember it by, nothing to send
        if digest.sections or sub.quiet_day != "skip":
            content = Content(digest.subject, render_text(digest), render_html(digest))
        items = []
        for channel in channels:
            message_id = self._message_id("digest", sub.name, period, channel.name)
            payload = "" if content is None else channel.render(sub, content, message_id, now)
            items.append(
                _Queued(
                    sub.name,
                    channel.name,
                    "digest",
                    None,
                    period,
                    channel.target(sub),
                    payload,
                    message_id,
                    "skipped" if content is None else "pending",
                )
            )
        return self._insert(items) > 0

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
            for problem in self.channels.problems(sub):  # the other channels still go
                log.error("alerts for %s: %s", sub.name, problem)
            channels = self.channels.of(sub, "alert")
            with db.session_scope(self.engine) as session:  # sub.text: its saved search
                found = text_documents(session, sub.text)
            for row in rows:  # best score first
                if not wanted(sub, row, sub.alert_threshold, found):
                    continue
                keys = _story_keys(row)
                for channel in channels:
                    if any((sub.name, channel.name, *k) in seen for k in keys):
                        continue
                    seen.update((sub.name, channel.name, *k) for k in keys)
                    items.append(self._alert_item(sub, row, channel, now))
        return self._insert(items)

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
        self, sub: SubscriptionConfig, row: SignalRow, channel: Channel, now: datetime
    ) -> _Queued:
        alert = Alert.of(row, sub.name, sub.alert_threshold)
        text, html = render_alert(alert)
        message_id = self._message_id("alert", sub.name, f"s{row.signal_id}", channel.name)
        payload = channel.render(sub, Content(alert.subject, text, html), message_id, now)
        return _Queued(
            sub.name,
            channel.name,
            "alert",
            row.signal_id,
            None,
            channel.target(sub),
            payload,
            message_id,
        )

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
