"""Typed SQLAlchemy 2 models. Table and column names are a public interface for analysts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "SIGNAL_COLUMNS",
    "Base",
    "Capture",
    "ComboKey",
    "Delivery",
    "Document",
    "DocumentCapture",
    "DocumentVersion",
    "Feedback",
    "HostSlot",
    "Run",
    "Signal",
    "SignalCombo",
    "SignalHistory",
    "SignalWeekly",
    "Source",
    "combo_ids",
    "mentions_key",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps are stored in UTC and always come back timezone-aware (SQLite too)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store: naive datetime; pass an aware datetime (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Source(Base):
    """A configured source and its health (updated after every poll)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(16))
    languages: Mapped[list[str]] = mapped_column(JSON)
    tier: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    items_last_run: Mapped[int] = mapped_column(Integer, default=0)
    # Items the last poll skipped: pages or attachments refused or failed, items not stored.
    skipped_last_run: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What the last poll noticed though it worked: bytes replaced with U+FFFD, a feed cut
    # mid-stream (only its complete items stored). None when it noticed nothing.
    last_warning: Mapped[str | None] = mapped_column(Text)
    # Conditional GET validators from the last full response (feeds).
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(String(64))
    # Not polled before these: the server's freshness (max-age, feed TTL) after a success;
    # Retry-After or exponential back-off after a failure.
    fresh_until: Mapped[datetime | None]
    next_retry_at: Mapped[datetime | None]

    documents: Mapped[list[Document]] = relationship(back_populates="source")


class Document(Base):
    """One article; its text lives in versions. Its identity, decided once
    (:mod:`pipeline.dedupe`): its source and guid, else its canonical URL, else its content.
    ``canonical_url`` is unique: the canonical link, or for a second item of a source on one
    link (or an item with no link) that link with ``#item-…`` made of its guid or content."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_source_guid", "source_id", "guid", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(8))
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    guid: Mapped[str | None] = mapped_column(String(1024))  # the item's id in its source

    source: Mapped[Source] = relationship(back_populates="documents")
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", order_by="DocumentVersion.version"
    )
    signals: Mapped[list[Signal]] = relationship(back_populates="document")


class DocumentVersion(Base):
    """The text of a document as fetched; a changed page adds a version."""

    __tablename__ = "document_versions"
    __table_args__ = (
        UniqueConstraint("document_id", "version"),
        UniqueConstraint("document_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)

    document: Mapped[Document] = relationship(back_populates="versions")


def _document_source(ctx: Any) -> int | None:
    """Default for ``signals.source_id``: the source of the signal's document."""
    document_id = ctx.get_current_parameters()["document_id"]
    found: int | None = ctx.connection.scalar(
        select(Document.source_id).where(Document.id == document_id)
    )
    return found


def _mentions_default(ctx: Any) -> str:
    return mentions_key(ctx.get_current_parameters().get("countries") or ())


def _combo_default(ctx: Any) -> int:
    """Default for ``signals.combo_id``: the row of ``signal_combos`` for the signal's
    category, language, source and mentions (created when new)."""
    p = ctx.get_current_parameters()
    source_id = p.get("source_id") or _document_source(ctx)
    if source_id is None:  # the foreign key would refuse the row anyway; say why
        raise ValueError(f"signals: document {p.get('document_id')!r} does not exist")
    mentions = p["mentions"] if p.get("mentions") is not None else _mentions_default(ctx)
    key: ComboKey = (p["category"], p.get("lang") or "", source_id, mentions)
    return combo_ids(ctx.connection, [key])[key]


ComboKey = tuple[str, str, int, str]  # category, lang ("" for none), source_id, mentions


def combo_ids(conn: Any, keys: Iterable[ComboKey]) -> dict[ComboKey, int]:
    """The ``signal_combos`` ids of ``keys``, inserting the missing ones (in sorted order, so
    concurrent writers take their locks in the same order)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    c = SignalCombo
    table = cast(Table, c.__table__)
    columns = (c.category, c.lang, c.source_id, c.mentions)
    ids: dict[ComboKey, int] = {}
    for start in range(0, len(wanted), 200):
        part = wanted[start : start + 200]
        found = conn.execute(select(c.id, *columns).where(tuple_(*columns).in_(part)))
        ids.update(((cat, lang, src, mn), i) for i, cat, lang, src, mn in found)
    missing = [k for k in wanted if k not in ids]
    if missing:
        names = ("category", "lang", "source_id", "mentions")
        rows = [dict(zip(names, k, strict=True)) | {"n": 0} for k in missing]
        upsert: Any = (sqlite_insert if conn.dialect.name == "sqlite" else pg_insert)(table)
        conn.execute(upsert.on_conflict_do_nothing(), rows)
        for start in range(0, len(missing), 200):
            part = missing[start : start + 200]
            found = conn.execute(select(c.id, *columns).where(tuple_(*columns).in_(part)))
            ids.update(((cat, lang, src, mn), i) for i, cat, lang, src, mn in found)
    return {k: ids[k] for k in wanted}


class _Evidence:
    """The columns of a match's evidence, alike in ``signals`` and ``signal_history``."""

    category: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(128))
    field: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    sentence: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(8))
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)


class Signal(_Evidence, Base):
    """One flagged match with its evidence. Unique per (version, rule, field, offset)."""

    __tablename__ = "signals"
    __table_args__ = (
        UniqueConstraint("version_id", "rule", "field", "start"),
        Index("ix_signals_category_detected", "category", "detected_at"),
        Index("ix_signals_score_id", "score", "id"),
        Index("ix_signals_detected_id", "detected_at", "id"),
        # Cover the counts over part of a week and over the documents a text search finds
        # (store.facets); the second also serves lookups and deletes by document.
        Index("ix_signals_detected_combo", "detected_at", "combo_id", "score"),
        Index("ix_signals_document_combo", "document_id", "score", "combo_id", "detected_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id", ondelete="CASCADE"))
    # The document's source, kept on the signal so analyst queries need no join.
    source_id: Mapped[int] = mapped_column(
        ForeignKey("sources.id", ondelete="CASCADE"), default=_document_source
    )
    # ``countries`` as ",kg,kz," (sorted, each once; "" for none): what facets group and filter by.
    mentions: Mapped[str] = mapped_column(String(256), default=_mentions_default, server_default="")
    bodies: Mapped[list[str]] = mapped_column(JSON, default=list)
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    # (category, lang, source_id, mentions) as one number: what facets count by. Fixed at
    # insert: a trigger refuses to change those columns.
    combo_id: Mapped[int] = mapped_column(ForeignKey("signal_combos.id"), default=_combo_default)

    document: Mapped[Document] = relationship(back_populates="signals")


class SignalHistory(_Evidence, Base):
    """A finding a document had and its current version no longer has, kept as history
    (the document page shows it) and counted nowhere: ``signals`` holds the current
    version's findings only, each once. A finding an edit keeps stays its row of ``signals``
    untouched (store.documents), so its id, evidence and deliveries survive the edit."""

    __tablename__ = "signal_history"
    __table_args__ = (Index("ix_signal_history_document_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    signal_id: Mapped[int] = mapped_column(Integer)  # its id while it was current
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("document_versions.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    mentions: Mapped[str] = mapped_column(String(256), server_default="")
    bodies: Mapped[list[str]] = mapped_column(JSON, default=list)
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    detected_at: Mapped[datetime] = mapped_column()
    combo_id: Mapped[int] = mapped_column(Integer)
    superseded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Feedback(Base):
    """An analyst's verdict on a signal, or a category a document misses (store.feedback):
    keyed by what it judges, not by a signal id an edit may move to ``signal_history``."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_document_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    signal_id: Mapped[int | None] = mapped_column(Integer)  # its id at the time
    verdict: Mapped[str] = mapped_column(String(16))  # relevant | not_relevant | missed
    category: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(128), default="")  # "" for a missed category
    field: Mapped[str] = mapped_column(String(16), default="")
    start: Mapped[int | None] = mapped_column(Integer)
    end: Mapped[int | None] = mapped_column(Integer)
    sentence: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


SIGNAL_COLUMNS = (
    "document_id", "version_id", "source_id", "category", "rule", "field", "text",
    "start", "end", "sentence", "score", "reason", "lang", "countries", "mentions", "bodies",
    "attributes", "detected_at", "combo_id",
)  # fmt: skip
"""The columns ``signals`` and ``signal_history`` share: a signal moves between them whole."""


class SignalCombo(Base):
    """Each (category, language, source, mentions) that signals have, with how many signals
    have it — kept by triggers on ``signals``. Facets count by these (store.facets)."""

    __tablename__ = "signal_combos"
    __table_args__ = (UniqueConstraint("category", "lang", "source_id", "mentions"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(8))  # "" for none
    source_id: Mapped[int] = mapped_column(Integer)
    mentions: Mapped[str] = mapped_column(String(256))
    n: Mapped[int] = mapped_column(Integer)


class SignalWeekly(Base):
    """Signal counts per UTC week (its Monday) and combination — with the combination's
    category, source and mentions, for timelines — kept by triggers on ``signals``: facets
    and timelines over whole weeks read these instead of every signal."""

    __tablename__ = "signal_weekly"
    __table_args__ = (
        # Each in the order of a GROUP BY in store/facets.py, so counts stream without a sort.
        Index("ix_signal_weekly_combo", "combo_id", "week", "n"),
        Index("ix_signal_weekly_category", "week", "category", "combo_id", "n"),
        Index("ix_signal_weekly_country", "week", "source_id", "mentions", "combo_id", "n"),
        {"sqlite_with_rowid": False},
    )

    week: Mapped[date] = mapped_column(Date, primary_key=True)
    combo_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[int] = mapped_column(Integer)
    mentions: Mapped[str] = mapped_column(String(256))
    n: Mapped[int] = mapped_column(Integer)


def mentions_key(countries: Iterable[str]) -> str:
    """The ``signals.mentions`` form of a list of country codes."""
    unique = sorted(set(countries))
    return f",{','.join(unique)}," if unique else ""


class Delivery(Base):
    """Outbox row: one per (subscription, channel, signal), (subscription, channel, digest
    period), (subscription, channel, instrument event) — a stage-change alert — or
    (subscription, channel, instrument, deadline) — a consultation reminder; written with its
    rendered message before anything is sent."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscription", "channel", "signal_id"),
        UniqueConstraint("subscription", "channel", "period"),
        UniqueConstraint("subscription", "channel", "instrument_event_id"),
        UniqueConstraint("subscription", "channel", "instrument_id", "deadline"),
        Index("ix_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))  # "email" | "webhook-<hash>"
    kind: Mapped[str] = mapped_column(String(16))  # digest | alert | bundle | stage | reminder
    signal_id: Mapped[int | None] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"))
    period: Mapped[str | None] = mapped_column(String(32))
    instrument_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("instrument_events.id", ondelete="CASCADE")
    )  # a stage-change alert's event
    instrument_id: Mapped[int | None] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE")
    )  # the instrument of a stage alert or a reminder
    deadline: Mapped[date | None] = mapped_column(Date)  # a reminder's consultation end
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    # pending → sending → sent | pending (retry later) | failed; skipped: a quiet day, no note
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text, default="")  # recipients, or the webhook's label
    payload: Mapped[str] = mapped_column(Text, default="")  # the message exactly as sent
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]


class Run(Base):
    """One collection or digest run, with its counts — what `status` and the UI report."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    sources_ok: Mapped[int] = mapped_column(Integer, default=0)
    sources_failed: Mapped[int] = mapped_column(Integer, default=0)
    items_seen: Mapped[int] = mapped_column(Integer, default=0)
    documents_new: Mapped[int] = mapped_column(Integer, default=0)
    documents_updated: Mapped[int] = mapped_column(Integer, default=0)
    signals_new: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class Capture(Base):
    """A stored capture: WARC records of the HTTP exchange(s) a document came from, in the
    evidence folder under its SHA-256 (store/evidence.py). A feed's one capture serves every
    item of it that raised a signal."""

    __tablename__ = "captures"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # of the .warc.gz file
    url: Mapped[str] = mapped_column(Text)  # the URL that answered
    captured_at: Mapped[datetime]  # when the answer was requested (UTC)
    size: Mapped[int] = mapped_column(Integer)  # bytes of the .warc.gz file
    records: Mapped[int] = mapped_column(Integer)  # WARC records in it
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentCapture(Base):
    """Which capture a document's version was read from (the version that raised signals)."""

    __tablename__ = "document_captures"
    __table_args__ = (
        UniqueConstraint("document_id", "capture_id"),
        Index("ix_document_captures_capture_id", "capture_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)  # the document's version it was read into


class HostSlot(Base):
    """When a host may next be asked: ``regwatch worker`` processes reserve request starts
    here (one conditional upsert each), so the per-host delay holds across all of them."""

    __tablename__ = "host_slots"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    next_start_at: Mapped[datetime]
