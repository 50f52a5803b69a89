"""Reading instruments (issue 16): what the CLI, the web pages, the calendar, the digest and
the stage-change alerts show. Every read works on both engines and within the caller's session.

    list_instruments(session, country=, stage=, theme=, today=, limit=) -> [InstrumentSummary]
        open consultations first (the one closing soonest first), then the most recently seen;
        instruments merged into another are left out (they show under it).
    get_instrument(session, id) -> InstrumentDetail | None
        one instrument with its titles, stage events (oldest first; contradicting ones marked)
        and linked documents (``status`` linked or unlinked, with how and why) — its own and
        those of the instruments merged into it. ``merged_into`` set: show that one instead.
    instruments_of_document(session, document_id) -> [DocumentLink]
        the instruments a document is linked to (for the document page).
    stage_changes_since(session, since) -> [StageChange]
        events recorded after ``since`` (a UTC datetime) that moved an instrument's stage
        forward, oldest first; ``previous`` is the stage it left. ``event_id`` is stable.
        There is one such event per instrument and stage — unless an unlink or an unmerge
        took the stage back and other evidence moved it forward again: key the outbox on
        ``StageChange.outbox_key`` (``"instrument-<id>-<stage>"``) to send once per
        instrument and stage whatever happens.
    consultations_closing(session, today, days) -> [InstrumentSummary]
        instruments whose consultation ends between ``today`` and ``today + days`` (both
        included), the soonest first.

Stages are :class:`instruments.vocabulary.Stage` members; themes are signal categories.
Writes (linking, unlinking, merging) are in :mod:`store.instrument_links`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from regwatch.instruments.keys import subject_label
from regwatch.instruments.vocabulary import Stage
from regwatch.store.instrument_models import (
    LINKED,
    UNLINKED,
    Instrument,
    InstrumentDocument,
    InstrumentEvent,
    InstrumentTitle,
)
from regwatch.store.models import Document, DocumentVersion, Source

__all__ = [
    "DocumentLink",
    "EventRow",
    "InstrumentDetail",
    "InstrumentSummary",
    "LinkRow",
    "StageChange",
    "TitleRow",
    "consultations_closing",
    "counted_out",
    "get_instrument",
    "instruments_of_document",
    "list_instruments",
    "members",
    "stage_changes_since",
    "themes_list",
]


def themes_list(themes: str) -> tuple[str, ...]:
    """``",a,b,"`` (the column) as ``("a", "b")``."""
    return tuple(t for t in themes.split(",") if t)


def _stage(value: str | None) -> Stage | None:
    return Stage(value) if value else None


@dataclass(frozen=True)
class InstrumentSummary:
    id: int
    jurisdiction: str | None
    kind: str | None
    number: str | None
    title: str
    subject: str | None
    portal: str | None
    portal_id: str | None
    issuing_body: str | None
    themes: tuple[str, ...]
    stage: Stage | None
    stage_date: date | None
    consultation_start: date | None
    consultation_end: date | None
    first_seen: datetime
    last_seen: datetime
    documents: int  # linked documents, the merged instruments' included
    merged_into: int | None = None

    @property
    def label(self) -> str:
        """Its title, or for one known only from articles what it is: "Law on artificial
        intelligence"."""
        if self.title:
            return self.title
        what = (self.kind or "instrument").capitalize()
        about = subject_label(self.subject) if self.subject else None
        return f"{what} on {about}" if about else f"{what} (untitled)"

    def consultation_open(self, today: date) -> bool:
        """Comments are still accepted on ``today`` (the end day included)."""
        return (
            self.consultation_end is not None
            and self.consultation_end >= today
            and (self.consultation_start is None or self.consultation_start <= today)
        )


@dataclass(frozen=True)
class TitleRow:
    lang: str
    title: str
    document_id: int | None


@dataclass(frozen=True)
class EventRow:
    id: int
    instrument_id: int
    stage: Stage
    stage_date: date | None
    document_id: int | None
    document_title: str | None
    source: str  # portal | text | manual
    evidence: str
    advanced: bool
    contradicts: bool
    recorded_at: datetime


@dataclass(frozen=True)
class LinkRow:
    document_id: int
    instrument_id: int  # the instrument the link is on (a merged one's own id)
    title: str
    url: str
    lang: str | None
    source: str  # the document's source name
    published_at: datetime | None
    versions: int  # the document's stored versions (a portal document's are the text's)
    method: str  # portal_id | number | title | manual
    reason: str
    status: str  # linked | unlinked
    linked_at: datetime
    unlinked_at: datetime | None


@dataclass(frozen=True)
class InstrumentDetail:
    instrument: InstrumentSummary
    titles: list[TitleRow]
    events: list[EventRow]
    links: list[LinkRow]  # linked first, then unlinked; each by publication date
    merged: list[int]  # instruments merged into this one


@dataclass(frozen=True)
class DocumentLink:
    instrument_id: int  # the instrument to show (where a merged one went)
    title: str
    kind: str | None
    jurisdiction: str | None
    stage: Stage | None
    method: str
    reason: str
    status: str


@dataclass(frozen=True)
class StageChange:
    event_id: int
    instrument: InstrumentSummary
    stage: Stage
    previous: Stage | None
    stage_date: date | None
    document_id: int | None
    evidence: str
    source: str
    recorded_at: datetime
    instrument_id: int = 0  # the event's own instrument (a merged one keeps its id)

    @property
    def outbox_key(self) -> str:
        return f"instrument-{self.instrument_id or self.instrument.id}-{self.stage.value}"


def counted_out() -> Any:
    """SQL condition: the event's document was unlinked from the event's instrument (the
    event stays as evidence but counts for nothing)."""
    L, E = InstrumentDocument, InstrumentEvent
    return exists().where(
        L.instrument_id == E.instrument_id, L.document_id == E.document_id, L.status == UNLINKED
    )


def members(session: Session, instrument_id: int) -> list[int]:
    """The instrument and every instrument merged into it (transitively)."""
    found, frontier = [instrument_id], [instrument_id]
    while frontier:
        frontier = list(
            session.scalars(select(Instrument.id).where(Instrument.merged_into.in_(frontier)))
        )
        found.extend(i for i in frontier if i not in found)
    return found


def _canonical(session: Session, instrument_id: int) -> int:
    """Where an instrument shows: the one it was merged into, followed to the end."""
    seen = {instrument_id}
    current = instrument_id
    while up := session.scalar(select(Instrument.merged_into).where(Instrument.id == current)):
        if up in seen:  # a cycle cannot be made by merge(); stop rather than loop
            break
        seen.add(up)
        current = up
    return current


def _link_counts(session: Session, ids: Sequence[int]) -> dict[int, int]:
    """Linked documents per canonical instrument in ``ids`` (members' links included)."""
    out: dict[int, int] = {}
    for i in ids:
        group = members(session, i)
        out[i] = (
            session.scalar(
                select(func.count(func.distinct(InstrumentDocument.document_id))).where(
                    InstrumentDocument.instrument_id.in_(group),
                    InstrumentDocument.status == LINKED,
                )
            )
            or 0
        )
    return out


def _summary(row: Instrument, documents: int) -> InstrumentSummary:
    return InstrumentSummary(
        id=row.id,
        jurisdiction=row.jurisdiction,
        kind=row.kind,
        number=row.number,
        title=row.title,
        subject=row.subject,
        portal=row.portal,
        portal_id=row.portal_id,
        issuing_body=row.issuing_body,
        themes=themes_list(row.themes),
        stage=_stage(row.stage),
        stage_date=row.stage_date,
        consultation_start=row.consultation_start,
        consultation_end=row.consultation_end,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        documents=documents,
        merged_into=row.merged_into,
    )


def _summaries(session: Session, rows: Sequence[Instrument]) -> list[InstrumentSummary]:
    counts = _link_counts(session, [r.id for r in rows])
    return [_summary(r, counts[r.id]) for r in rows]


def list_instruments(
    session: Session,
    *,
    country: str | None = None,
    stage: Stage | str | None = None,
    theme: str | None = None,
    today: date | None = None,
    limit: int | None = None,
) -> list[InstrumentSummary]:
    """Instruments matching every filter given; open consultations first (soonest end
    first), then by last seen, newest first."""
    today = today or datetime.now(UTC).date()
    I = Instrument  # noqa: E741
    query = select(I).where(I.merged_into.is_(None))
    if country:
        query = query.where(I.jurisdiction == country)
    if stage:
        query = query.where(I.stage == Stage(stage).value)
    if theme:
        query = query.where(I.themes.contains(f",{theme},", autoescape=True))
    rows = list(session.scalars(query.order_by(I.last_seen.desc(), I.id.desc())))

    def is_open(r: Instrument) -> bool:
        return (
            r.consultation_end is not None
            and r.consultation_end >= today
            and (r.consultation_start is None or r.consultation_start <= today)
        )

    opened = sorted((r for r in rows if is_open(r)), key=lambda r: (r.consultation_end, r.id))
    rest = [r for r in rows if not is_open(r)]
    ordered = (opened + rest)[:limit] if limit is not None else opened + rest
    return _summaries(session, ordered)


def get_instrument(session: Session, instrument_id: int) -> InstrumentDetail | None:
    row = session.get(Instrument, instrument_id)
    if row is None:
        return None
    group = members(session, instrument_id)
    T, E, L, D = InstrumentTitle, InstrumentEvent, InstrumentDocument, Document
    titles = [
        TitleRow(t.lang, t.title, t.document_id)
        for t in session.scalars(select(T).where(T.instrument_id.in_(group)).order_by(T.lang, T.id))
    ]
    seen_titles: set[tuple[str, str]] = set()
    unique_titles = []
    for t in titles:
        if (t.lang, t.title) not in seen_titles:
            seen_titles.add((t.lang, t.title))
            unique_titles.append(t)
    events = [
        EventRow(
            e.id,
            e.instrument_id,
            Stage(e.stage),
            e.stage_date,
            e.document_id,
            title,
            e.source,
            e.evidence,
            e.advanced,
            e.contradicts,
            e.recorded_at,
        )
        for e, title in session.execute(
            select(E, D.title)
            .outerjoin(D, D.id == E.document_id)
            .where(E.instrument_id.in_(group))
            .order_by(E.stage_date.is_(None), E.stage_date, E.id)
        )
    ]
    versions = select(func.count()).where(DocumentVersion.document_id == D.id).scalar_subquery()
    links = [
        LinkRow(
            d.id,
            link.instrument_id,
            d.title,
            d.url,
            d.lang,
            source,
            d.published_at,
            n,
            link.method,
            link.reason,
            link.status,
            link.linked_at,
            link.unlinked_at,
        )
        for link, d, source, n in session.execute(
            select(L, D, Source.name, versions)
            .join(D, D.id == L.document_id)
            .join(Source, Source.id == D.source_id)
            .where(L.instrument_id.in_(group))
            .order_by(L.status, D.published_at.is_(None), D.published_at, D.id)
        )
    ]
    count = len({link.document_id for link in links if link.status == LINKED})
    return InstrumentDetail(
        instrument=_summary(row, count),
        titles=unique_titles,
        events=events,
        links=links,
        merged=[i for i in group if i != instrument_id],
    )


def instruments_of_document(session: Session, document_id: int) -> list[DocumentLink]:
    L = InstrumentDocument
    out = []
    for link in session.scalars(select(L).where(L.document_id == document_id).order_by(L.id)):
        shown = session.get_one(Instrument, _canonical(session, link.instrument_id))
        out.append(
            DocumentLink(
                shown.id,
                shown.title,
                shown.kind,
                shown.jurisdiction,
                _stage(shown.stage),
                link.method,
                link.reason,
                link.status,
            )
        )
    return out


def stage_changes_since(session: Session, since: datetime) -> list[StageChange]:
    E = InstrumentEvent
    rows = list(
        session.scalars(
            select(E)
            .where(E.advanced.is_(True), E.recorded_at > since, ~counted_out())
            .order_by(E.id)
        )
    )
    out = []
    for e in rows:
        shown = session.get_one(Instrument, _canonical(session, e.instrument_id))
        before = session.scalar(
            select(E.stage)
            .where(E.instrument_id == e.instrument_id, E.advanced.is_(True), E.id < e.id)
            .order_by(E.id.desc())
            .limit(1)
        )
        [summary] = _summaries(session, [shown])
        out.append(
            StageChange(
                e.id,
                summary,
                Stage(e.stage),
                _stage(before),
                e.stage_date,
                e.document_id,
                e.evidence,
                e.source,
                e.recorded_at,
                e.instrument_id,
            )
        )
    return out


def consultations_closing(session: Session, today: date, days: int) -> list[InstrumentSummary]:
    I = Instrument  # noqa: E741
    rows = list(
        session.scalars(
            select(I)
            .where(
                I.merged_into.is_(None),
                I.consultation_end >= today,
                I.consultation_end <= today + timedelta(days=days),
            )
            .order_by(I.consultation_end, I.id)
        )
    )
    return _summaries(session, rows)
