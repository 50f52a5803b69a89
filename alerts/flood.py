"""Alert floods: at most ``delivery.alerts_per_hour`` immediate alerts per subscription and
channel in an hour. The stories past that are written to ``deliveries`` as "held" rows (so
none is alerted later, and none twice), and one bundled "N more strong signals" message per
subscription and channel — at most one an hour — tells of them; its rows become "bundled".

A row's statuses here: ``held`` (waiting for the next bundle), ``bundled`` (told in one; its
``last_error`` names the bundle's row). Neither is ever sent on its own."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from regwatch.store.models import Delivery, Document, Signal, Source

__all__ = ["HOUR", "Bundle", "HeldStory", "bundled_recently", "held", "sent_this_hour"]

HOUR = timedelta(hours=1)
LISTED = 20  # stories a bundle lists by name; it counts the rest
MESSAGES = ("alert", "bundle")  # the kinds that are messages of an alert flood
SILENT = ("held", "bundled")  # rows that record a story without a message of their own


def sent_this_hour(session: Session, now: datetime) -> Counter[tuple[str, str]]:
    """Alert messages (alerts and bundles) queued in the hour before ``now``, per
    (subscription, channel)."""
    stmt = (
        select(Delivery.subscription, Delivery.channel, func.count())
        .where(
            Delivery.kind.in_(MESSAGES),
            Delivery.status.not_in(SILENT),
            Delivery.created_at > now - HOUR,
        )
        .group_by(Delivery.subscription, Delivery.channel)
    )
    return Counter({(sub, ch): int(n) for sub, ch, n in session.execute(stmt)})


def bundled_recently(session: Session, now: datetime) -> set[tuple[str, str]]:
    """The (subscription, channel) pairs that got a bundle in the hour before ``now``."""
    stmt = select(Delivery.subscription, Delivery.channel).where(
        Delivery.kind == "bundle", Delivery.created_at > now - HOUR
    )
    return {(sub, ch) for sub, ch in session.execute(stmt)}


@dataclass(frozen=True)
class HeldStory:
    """A story past the hour's alerts, as a bundle lists it."""

    delivery_id: int
    title: str
    url: str
    score: float
    category: str
    source: str


def held(session: Session) -> dict[tuple[str, str], list[HeldStory]]:
    """Every held story, per (subscription, channel), best first."""
    stmt = (
        select(
            Delivery.subscription,
            Delivery.channel,
            Delivery.id,
            Document.title,
            Document.url,
            Signal.score,
            Signal.category,
            Source.name,
        )
        .join(Signal, Delivery.signal_id == Signal.id)
        .join(Document, Signal.document_id == Document.id)
        .join(Source, Document.source_id == Source.id)
        .where(Delivery.status == "held")
        .order_by(Signal.score.desc(), Delivery.id)
    )
    out: dict[tuple[str, str], list[HeldStory]] = defaultdict(list)
    for sub, channel, row_id, title, url, score, category, source in session.execute(stmt):
        out[(sub, channel)].append(HeldStory(row_id, title, url, score, category, source))
    return dict(out)


@dataclass(frozen=True)
class Bundle:
    """One message for the stories of a flood past the hour's alerts."""

    subscription: str
    threshold: float
    per_hour: int
    count: int
    stories: tuple[HeldStory, ...]  # the best LISTED of them

    @classmethod
    def of(
        cls, subscription: str, threshold: float, per_hour: int, stories: list[HeldStory]
    ) -> Bundle:
        return cls(subscription, threshold, per_hour, len(stories), tuple(stories[:LISTED]))

    @property
    def subject(self) -> str:
        noun = "signal" if self.count == 1 else "signals"
        return f"[regwatch] {self.count} more strong {noun} for {self.subscription}"

    @property
    def unlisted(self) -> int:
        return self.count - len(self.stories)

    def section(self, story: HeldStory) -> str:
        from regwatch.alerts.digest import section_title

        return section_title(story.category)
