"""What the instrument pages show, read from the store: the stage timeline (contradicting
evidence marked), every text version of each linked document with the change from the one
before (by article where the text has numbered articles), the linked documents in every
language, and their archived captures when the evidence tables exist.

Captures are a hook, not a dependency: :func:`captured` looks for the ``document_captures``
table (the evidence work adds it) and returns nothing when it is not there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from regwatch.alerts.render import safe_url
from regwatch.instruments.vocabulary import JURISDICTIONS, Stage, stage_label
from regwatch.store.instrument_models import LINKED
from regwatch.store.instruments import EventRow, InstrumentDetail, get_instrument
from regwatch.store.models import DocumentCapture, DocumentVersion
from regwatch.web.article_diff import TextDiff, compare

__all__ = [
    "DocumentVersions",
    "InstrumentPage",
    "TimelineRow",
    "VersionRow",
    "captured",
    "instrument_page",
]

MAX_VERSIONS = 50  # per document, newest kept


@dataclass(frozen=True)
class TimelineRow:
    stage: str  # its label, with the chamber
    stage_value: str
    day: date | None
    source: str  # portal | text | manual
    evidence: str
    document_id: int | None
    document_title: str | None
    advanced: bool
    contradicts: bool
    counted: bool  # False: its document was unlinked; shown, counts for nothing
    recorded_at: datetime


@dataclass(frozen=True)
class VersionRow:
    version: int
    title: str
    fetched_at: datetime
    content_hash: str
    diff: TextDiff | None  # from the version before; None for the first


@dataclass(frozen=True)
class DocumentVersions:
    document_id: int
    title: str
    lang: str | None
    versions: tuple[VersionRow, ...]  # newest first
    hidden: int  # older versions not shown


@dataclass(frozen=True)
class InstrumentPage:
    detail: InstrumentDetail
    country: str
    stage: str | None
    timeline: tuple[TimelineRow, ...]
    languages: tuple[str, ...]  # of the linked documents
    texts: tuple[DocumentVersions, ...]  # documents with more than one version first
    captures: dict[int, int]  # document id -> archived captures
    portal_link: str


def captured(session: Session, document_ids: Sequence[int]) -> dict[int, int]:
    """Archived captures per document (store.evidence), for the documents that have any."""
    if not document_ids:
        return {}
    stmt = (
        select(DocumentCapture.document_id, func.count())
        .where(DocumentCapture.document_id.in_(list(document_ids)))
        .group_by(DocumentCapture.document_id)
    )
    return {int(d): int(n) for d, n in session.execute(stmt)}


def _timeline(
    events: Sequence[EventRow], unlinked: set[int], jurisdiction: str | None
) -> tuple[TimelineRow, ...]:
    return tuple(
        TimelineRow(
            stage_label(e.stage, jurisdiction),
            e.stage.value,
            e.stage_date,
            e.source,
            e.evidence,
            e.document_id,
            e.document_title,
            e.advanced,
            e.contradicts,
            e.document_id not in unlinked,
            e.recorded_at,
        )
        for e in events
    )


def _versions(session: Session, document_id: int, title: str, lang: str | None) -> DocumentVersions:
    stored = list(
        session.scalars(
            select(DocumentVersion)
            .where(DocumentVersion.document_id == document_id)
            .order_by(DocumentVersion.version)
        )
    )
    hidden = max(0, len(stored) - MAX_VERSIONS)
    rows: list[VersionRow] = []
    previous: DocumentVersion | None = stored[hidden - 1] if hidden else None
    for v in stored[hidden:]:
        diff = compare(previous.text, v.text) if previous is not None else None
        rows.append(VersionRow(v.version, v.title, v.fetched_at, v.content_hash, diff))
        previous = v
    return DocumentVersions(document_id, title, lang, tuple(rows[::-1]), hidden)


def instrument_page(session: Session, instrument_id: int) -> InstrumentPage | None:
    detail = get_instrument(session, instrument_id)
    if detail is None:
        return None
    inst = detail.instrument
    linked = [link for link in detail.links if link.status == LINKED]
    unlinked = {link.document_id for link in detail.links if link.status != LINKED}
    texts = sorted(
        (_versions(session, link.document_id, link.title, link.lang) for link in linked),
        key=lambda d: (len(d.versions) < 2, d.document_id),
    )
    languages = tuple(sorted({link.lang for link in linked if link.lang}))
    portal = ""
    if inst.portal:
        portal = safe_url(f"https://{inst.portal}/")
    return InstrumentPage(
        detail=detail,
        country=JURISDICTIONS.get(inst.jurisdiction or "", inst.jurisdiction or ""),
        stage=stage_label(inst.stage, inst.jurisdiction) if isinstance(inst.stage, Stage) else None,
        timeline=_timeline(detail.events, unlinked, inst.jurisdiction),
        languages=languages,
        texts=tuple(texts),
        captures=captured(session, [link.document_id for link in detail.links]),
        portal_link=portal,
    )
