"""Queueing: each digest period and each immediate alert is written to ``deliveries`` for
each channel that carries it, rendered by that channel, with its target and a stable
Message-ID, once (unique keys) — before anything is sent.

Stage changes of instruments and consultation reminders are queued by
:mod:`alerts.instrument_alerts`, once per (subscription, channel, event) and (subscription,
channel, instrument, deadline).

Alerts are queued incrementally: the queue remembers the highest signal id it has read and
the stories it has alerted (loaded once from ``deliveries``, then only the rows added since),
so a dispatch reads only what is new. Past ``delivery.alerts_per_hour`` a flood is held and
bundled (:mod:`alerts.flood`)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from regwatch.alerts.channels import Channel, Channels, Content
from regwatch.alerts.digest import Digest
from regwatch.alerts.flood import Bundle, bundled_recently, held, sent_this_hour
from regwatch.alerts.memory import StoryMemory
from regwatch.alerts.render import Alert, render_alert, render_bundle, render_html, render_text
from regwatch.alerts.report import latest_period, period_end, subscription_digest, wanted
from regwatch.config import DeliveryConfig, DigestConfig, SubscriptionConfig
from regwatch.errors import DeliveryError
from regwatch.store import db
from regwatch.store.analyst import text_documents
from regwatch.store.models import Delivery, utcnow
from regwatch.store.queries import SignalRow, signals_between

log = logging.getLogger("regwatch.alerts")

MAX_CATCH_UP = timedelta(days=7)  # a digest after downtime covers at most this much
FIRST_DIGEST_GRACE = timedelta(hours=1)  # a new subscription's first digest: only if this fresh


@dataclass(frozen=True)
class Queued:
    subscription: str
    channel: str
    kind: str
    signal_id: int | None
    period: str | None
    target: str
    payload: str
    message_id: str
    status: str = "pending"
    created_at: datetime | None = None
    instrument_event_id: int | None = None  # a stage-change alert's event
    instrument_id: int | None = None  # a stage alert's or a reminder's instrument
    deadline: date | None = None  # a reminder's consultation end


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
        ui_url: str = "",
    ) -> None:
        """``ui_url``: web.public_url, for the digests' links to archived copies."""
        self.engine = engine
        self.ui_url = ui_url
        self.subscriptions = {s.name: s for s in subscriptions}
        self.channels = channels
        self.delivery = delivery
        self.digest = digest
        self.sources = sources
        self.memory = StoryMemory()

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
            ui_url=self.ui_url,
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
        if digest.has_news or sub.quiet_day != "skip":
            content = Content(digest.subject, render_text(digest), render_html(digest))
        items = []
        for channel in channels:
            message_id = self._message_id("digest", sub.name, period, channel.name)
            payload = "" if content is None else channel.render(sub, content, message_id, now)
            items.append(
                Queued(
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
        for the story. Past the hour's allowance a story is held for the next bundle."""
        subs = [s for s in self.subscriptions.values() if s.immediate_alerts]
        if not subs:
            return 0
        since = now - timedelta(hours=self.delivery.alert_lookback_hours)
        threshold = min(s.alert_threshold for s in subs)
        with db.session_scope(self.engine) as session:
            rows = signals_between(
                session,
                since,
                now + timedelta(microseconds=1),
                threshold,
                after_id=self.memory.signal_mark,
            )
            self.memory.refresh(session, now)
            sent = sent_this_hour(session, now)
            found = {sub.name: text_documents(session, sub.text) for sub in subs}  # saved searches
        items: list[Queued] = []
        if rows:
            self.memory.signal_mark = max(self.memory.signal_mark, *(r.signal_id for r in rows))
            for sub in subs:
                for problem in self.channels.problems(sub):  # the other channels still go
                    log.error("alerts for %s: %s", sub.name, problem)
                mine = [  # best first
                    r for r in rows if wanted(sub, r, sub.alert_threshold, found[sub.name])
                ]
                for channel in self.channels.of(sub, "alert"):
                    room = self.delivery.alerts_per_hour - sent[(sub.name, channel.name)]
                    for row in mine:
                        keys = self.memory.keys(sub.name, channel.name, row)
                        if self.memory.knows(keys):
                            continue
                        self.memory.add(keys, now)
                        items.append(self._alert_item(sub, row, channel, now, held=room <= 0))
                        room -= 1
        self._insert(items)
        messages = sum(1 for item in items if item.status != "held")
        return messages + self._queue_bundles(now)

    def queue_instrument_alerts(self, now: datetime) -> int:
        """Queue each new stage change and each consultation reminder due for the
        subscriptions that take them (:mod:`alerts.instrument_alerts`); the number queued."""
        from regwatch.alerts.instrument_alerts import instrument_items

        subs = [s for s in self.subscriptions.values() if s.stage_alerts]
        if not subs:
            return 0
        items = instrument_items(
            self.engine,
            subs,
            self.channels,
            now,
            lookback=timedelta(hours=self.delivery.alert_lookback_hours),
            message_id=self._message_id,
            ui_url=self.ui_url,
        )
        return self._insert(items)

    def _queue_bundles(self, now: datetime) -> int:
        """One bundle per (subscription, channel) with held stories and no bundle within the
        hour; its stories become "bundled", in the same transaction."""
        queued = 0
        with db.session_scope(self.engine) as session:
            waiting = held(session)
            if not waiting:
                return 0
            recent = bundled_recently(session, now)
            for (sub_name, channel_name), stories in waiting.items():
                sub = self.subscriptions.get(sub_name)
                if sub is None or (sub_name, channel_name) in recent:
                    continue  # a subscription no longer configured keeps its rows held
                found = [c for c in self.channels.of(sub, "alert") if c.name == channel_name]
                if not found:
                    continue
                channel = found[0]
                bundle = Bundle.of(
                    sub.name, sub.alert_threshold, self.delivery.alerts_per_hour, stories
                )
                text, html = render_bundle(bundle)
                period = f"bundle {now:%Y-%m-%dT%H:%M:%S}Z"
                stamp = f"{now:%Y%m%dT%H%M%S}"
                message_id = self._message_id("bundle", sub.name, stamp, channel.name)
                content = Content(bundle.subject, text, html)
                row = Delivery(
                    subscription=sub.name,
                    channel=channel.name,
                    kind="bundle",
                    period=period,
                    message_id=message_id,
                    status="pending",
                    target=channel.target(sub),
                    payload=channel.render(sub, content, message_id, now),
                    created_at=now,
                )
                try:
                    with session.begin_nested():
                        session.add(row)
                        session.flush()
                        session.execute(
                            update(Delivery)
                            .where(Delivery.id.in_([s.delivery_id for s in stories]))
                            .where(Delivery.status == "held")
                            .values(status="bundled", last_error=f"told in bundle {row.id}")
                        )
                except IntegrityError:  # another sender bundled them first
                    continue
                queued += 1
                log.info("bundled %d held alerts for %s (%s)", bundle.count, sub.name, channel_name)
        return queued

    def _alert_item(
        self,
        sub: SubscriptionConfig,
        row: SignalRow,
        channel: Channel,
        now: datetime,
        *,
        held: bool = False,
    ) -> Queued:
        """The alert row of ``row``'s story; when ``held`` (past the hour's alerts), a row that
        records the story for the next bundle, with nothing rendered."""
        message_id = self._message_id("alert", sub.name, f"s{row.signal_id}", channel.name)
        payload = ""
        if not held:
            alert = Alert.of(row, sub.name, sub.alert_threshold)
            text, html = render_alert(alert)
            payload = channel.render(sub, Content(alert.subject, text, html), message_id, now)
        return Queued(
            sub.name,
            channel.name,
            "alert",
            row.signal_id,
            None,
            channel.target(sub),
            payload,
            message_id,
            "held" if held else "pending",
            now,
        )

    def _insert(self, items: list[Queued]) -> int:
        """Insert the items in one statement; if another sender queued some of them first
        (a unique key), insert each in its own savepoint instead: those are skipped, the
        rest still go in."""
        if not items:
            return 0
        values = [
            {
                "subscription": item.subscription,
                "channel": item.channel,
                "kind": item.kind,
                "signal_id": item.signal_id,
                "period": item.period,
                "message_id": item.message_id,
                "status": item.status,
                "target": item.target,
                "payload": item.payload,
                "attempts": 0,
                "created_at": item.created_at or utcnow(),
                "instrument_event_id": item.instrument_event_id,
                "instrument_id": item.instrument_id,
                "deadline": item.deadline,
            }
            for item in items
        ]
        with db.session_scope(self.engine) as session:
            try:
                with session.begin_nested():
                    session.execute(insert(Delivery), values)
                return len(values)
            except IntegrityError:
                pass
            added = 0
            for one in values:
                try:
                    with session.begin_nested():
                        session.execute(insert(Delivery), [one])
                    added += 1
                except IntegrityError:
                    continue
        return added
