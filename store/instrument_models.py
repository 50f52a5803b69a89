"""The instruments tables (issue 16 §1): a draft law, decree or concept followed from concept
to force, the documents that are about it, its titles in every language and its stage events.
Table and column names are a public interface for analysts, like :mod:`store.models` (whose
MetaData these share: :mod:`store` imports this module, so migrations and ``Base.metadata``
always see them).

- ``instruments``: one per instrument; ``stage``, ``stage_date`` and the consultation dates are
  the current state, recomputed from its events; ``merged_into`` marks an instrument merged
  into another (``regwatch instruments merge``): its rows stay where they are and every read
  shows them under the one it was merged into, so an unmerge gives them back.
- ``instrument_titles``: each title seen, per language, with its normalised key.
- ``instrument_documents``: which document is about which instrument, how that was decided
  (``method``: portal_id | number | title | manual) and why (``reason``, printed by the CLI).
  An unlinked pair keeps its row with ``status = 'unlinked'``: the linker never links it again.
- ``instrument_events``: each stage a document's evidence puts the instrument at — its id is
  stable (the outbox keys on it). ``advanced``: the event moved the stage forward when it was
  recorded (what alerts are about: at most one per instrument and stage); ``contradicts``: it
  would have moved the stage backwards, so it was kept and shown, not applied.

An instrument's text versions are its portal document's ``document_versions``: no table here.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from regwatch.store.models import Base, utcnow

__all__ = [
    "LINKED",
    "METHODS",
    "UNLINKED",
    "Instrument",
    "InstrumentDocument",
    "InstrumentEvent",
    "InstrumentTitle",
]

METHODS = ("portal_id", "number", "title", "manual")
LINKED, UNLINKED = "linked", "unlinked"
EVENT_SOURCES = ("portal", "text", "manual")


class Instrument(Base):
    """A draft or act followed through its procedure."""

    __tablename__ = "instruments"
    __table_args__ = (
        # NULLs are distinct on both engines: unique only where the portal gives an id.
        UniqueConstraint("portal", "portal_id"),
        Index("ix_instruments_jurisdiction_stage", "jurisdiction", "stage"),
        Index("ix_instruments_number_key", "number_key"),
        Index("ix_instruments_consultation_end", "consultation_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction: Mapped[str | None] = mapped_column(String(8))  # a key of JURISDICTIONS
    kind: Mapped[str | None] = mapped_column(String(16))  # one of KINDS
    number: Mapped[str | None] = mapped_column(String(64))  # as first stated ("ЗРУ-1018")
    number_key: Mapped[str | None] = mapped_column(String(64))  # normalised: what links match
    title: Mapped[str] = mapped_column(Text, default="")  # the best title known (portal first)
    # What it is about, a subject of instruments/data/subjects.toml ("ai"), when known.
    subject: Mapped[str | None] = mapped_column(String(64))
    portal: Mapped[str | None] = mapped_column(String(128))  # the portal's host
    portal_id: Mapped[str | None] = mapped_column(String(256))  # the portal's own id
    issuing_body: Mapped[str | None] = mapped_column(Text)
    # The categories of its documents' signals as ",a,b," (sorted, each once; "" for none),
    # like signals.mentions: filtered with LIKE on both engines.
    themes: Mapped[str] = mapped_column(String(512), default="", server_default="")
    stage: Mapped[str | None] = mapped_column(String(32))  # a Stage value
    stage_date: Mapped[date | None] = mapped_column(Date)
    consultation_start: Mapped[date | None] = mapped_column(Date)
    consultation_end: Mapped[date | None] = mapped_column(Date)  # last day comments accepted
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    merged_into: Mapped[int | None] = mapped_column(
        ForeignKey("instruments.id", ondelete="SET NULL"), index=True
    )


class InstrumentTitle(Base):
    """A title of an instrument in one language, with the key title linking compares."""

    __tablename__ = "instrument_titles"
    __table_args__ = (
        UniqueConstraint("instrument_id", "lang", "title_key"),
        Index("ix_instrument_titles_title_key", "title_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    lang: Mapped[str] = mapped_column(String(8), default="")  # "" when unknown
    title: Mapped[str] = mapped_column(Text)
    title_key: Mapped[str] = mapped_column(String(512))
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL")
    )  # where it was seen
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class InstrumentDocument(Base):
    """A document is about an instrument: how that was decided and why; reversible."""

    __tablename__ = "instrument_documents"
    __table_args__ = (
        UniqueConstraint("instrument_id", "document_id"),
        Index("ix_instrument_documents_document_id", "document_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(16))  # one of METHODS
    reason: Mapped[str] = mapped_column(Text)  # "same number ЗРУ-1018 and kind law as document 42"
    status: Mapped[str] = mapped_column(String(16), default=LINKED)  # linked | unlinked
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    unlinked_at: Mapped[datetime | None]


class InstrumentEvent(Base):
    """The instrument at a stage, by one document's evidence (a portal field or a sentence)."""

    __tablename__ = "instrument_events"
    __table_args__ = (
        UniqueConstraint("instrument_id", "stage", "document_id", "source"),
        Index("ix_instrument_events_recorded_at", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)  # stable: the outbox keys on it
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(32))  # a Stage value
    stage_date: Mapped[date | None] = mapped_column(Date)  # when it reached the stage, if known
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL")
    )  # the evidence
    source: Mapped[str] = mapped_column(String(8))  # portal | text | manual
    evidence: Mapped[str] = mapped_column(Text, default="")  # the sentence or portal field
    advanced: Mapped[bool] = mapped_column(Boolean, default=False)
    contradicts: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
