"""What has been alerted: the stories each (subscription, channel) was told about in the last
ALERT_MEMORY, so a story raises one alert — by its strongest signal — whatever else it holds
and wherever else it turns up (the digest's notion of a story).

Read incrementally: loaded once from ``deliveries``, then only the alert rows written since
(by this sender or any other), and forgotten after ALERT_MEMORY. ``signal_mark`` is the
highest signal id already considered, so a dispatch reads only newer signals. That never skips
a signal that commits late: every signal is written by ``pipeline.ingest`` under
``store.db.write_lock`` (``BEGIN IMMEDIATE`` on SQLite, a transaction advisory lock on
PostgreSQL, taken before any id is drawn), so signal ids become visible in the order they were
drawn."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from regwatch.alerts.digest import story_keys
from regwatch.store.models import Delivery, Document, DocumentVersion, Signal
from regwatch.store.queries import SignalRow

__all__ = ["ALERT_MEMORY", "Key", "StoryMemory"]

ALERT_MEMORY = timedelta(days=30)  # alerts older than this no longer suppress a new one
Key = tuple[object, ...]


class StoryMemory:
    def __init__(self) -> None:
        self.signal_mark = 0  # the highest signal id the queue has read
        self._delivery_mark = 0  # the highest alert row whose stories are known
        self._seen: dict[Key, datetime] = {}  # (subscription, channel, *story key) -> when
        self._pruned: datetime | None = None

    def keys(self, sub: str, channel: str, row: SignalRow) -> list[Key]:
        """The keys of ``row``'s story for ``sub`` on ``channel``."""
        when = row.published_at or row.detected_at
        return [
            (sub, channel, *k)
            for k in _keys(row.signal_id, row.document_id, row.content_hash, row.title, when)
        ]

    def knows(self, keys: Iterable[Key]) -> bool:
        return any(k in self._seen for k in keys)

    def add(self, keys: Iterable[Key], when: datetime) -> None:
        self._seen.update((k, when) for k in keys)

    def refresh(self, session: Session, now: datetime) -> None:
        """Learn the stories of the alert rows written since the last look; forget those
        older than ALERT_MEMORY (once an hour)."""
        memory = now - ALERT_MEMORY
        stmt = (
            select(
                Delivery.id,
                Delivery.created_at,
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
            .where(
                Delivery.kind == "alert",
                Delivery.id > self._delivery_mark,
                Delivery.created_at >= memory,
            )
        )
        for row_id, created, sub, channel, signal_id, detected, doc_id, *story in session.execute(
            stmt
        ):
            self._delivery_mark = max(self._delivery_mark, row_id)
            content_hash, title, published = story
            for k in _keys(signal_id, doc_id, content_hash, title, published or detected):
                key = (sub, channel, *k)
                self._seen[key] = max(created, self._seen.get(key, created))
        if self._pruned is None or now - self._pruned >= timedelta(hours=1):
            self._seen = {k: at for k, at in self._seen.items() if at >= memory}
            self._pruned = now


def _keys(
    signal_id: int, document_id: int, content_hash: str, title: str, when: datetime
) -> list[Key]:
    return [("signal", signal_id), ("doc", document_id), *story_keys(content_hash, title, when)]
