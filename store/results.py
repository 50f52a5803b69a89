"""Search results one per document — what an analyst reads first: each document with its
best-scoring signal, its categories and how many of its signals match, plus documents that
raised no signal at all when a full-text search finds them (the text index covers every
stored document). The per-signal list stays in :mod:`regwatch.store.analyst`.

A document matches when one of its signals passes the filter; with a search text and no
filter that only signals have (category, minimum score), a document without signals matches
too when its text, source, country, language and first-seen time pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from regwatch.errors import UsageError
from regwatch.store.analyst import SORTS, SignalFilter, conditions, signal_select
from regwatch.store.models import Document, DocumentVersion, Signal, Source
from regwatch.store.rollup import text_ids

__all__ = ["DOCUMENT_SORTS", "DocumentHit", "document_hits"]

DOCUMENT_SORTS = ("score", "detected", "published", "oldest")
PER_DOCUMENT = 20  # signals listed inside a result, best first
SNIPPET = 300  # characters of a document without signals shown in its result


@dataclass
class DocumentHit:
    document_id: int
    title: str
    url: str
    published_at: Any
    first_seen_at: Any
    source: str
    source_country: str
    tier: str
    lang: str | None
    score: float | None  # the best matching signal's; None: no signal
    matching: int  # its signals that pass the filter
    categories: list[str] = field(default_factory=list)  # of those, best first
    best: dict[str, Any] | None = None  # the best signal (store.analyst.COLUMNS)
    signals: list[dict[str, Any]] = field(default_factory=list)  # best first, at most 20
    snippet: str = ""  # the start of the text, for a document without signals


def _signal_only(f: SignalFilter) -> bool:
    return bool(f.categories) or f.min_score > 0


def _document_conditions(f: SignalFilter, dialect: str) -> list[ColumnElement[bool]]:
    """``f`` on a document without signals: its source, source country, language and when
    it was first seen stand in for its signals'."""
    out: list[ColumnElement[bool]] = [Document.id.in_(text_ids(f.text, dialect))]
    if f.sources:
        out.append(Source.name.in_(f.sources))
    if f.countries:
        out.append(Source.country.in_(f.countries))
    if f.languages:
        out.append(Document.lang.in_(f.languages))
    if f.since is not None:
        out.append(Document.first_seen_at >= f.since)
    if f.until is not None:
        out.append(Document.first_seen_at < f.until)
    return out


def _ranked(f: SignalFilter, sort: str, dialect: str) -> tuple[Select[Any], bool]:
    """Matching documents with their best score, matching signals and detection span; and
    whether documents without signals are included."""
    if sort not in DOCUMENT_SORTS:
        raise UsageError(f"sort {sort!r}: use one of {', '.join(DOCUMENT_SORTS)}")
    per_doc = (
        select(
            Signal.document_id.label("document_id"),
            func.max(Signal.score).label("best"),
            func.count().label("n"),
            func.max(Signal.detected_at).label("last"),
            func.min(Signal.detected_at).label("first"),
        )
        .join(Source, Source.id == Signal.source_id)
        .where(*conditions(f, dialect))
        .group_by(Signal.document_id)
        .subquery()
    )
    bare = bool(f.text.strip()) and not _signal_only(f)
    stmt = select(
        Document.id,
        Document.first_seen_at.label("seen"),
        Document.published_at.label("published"),
        per_doc.c.best,
        per_doc.c.n,
        per_doc.c.last,
        per_doc.c.first,
    ).join(Source, Source.id == Document.source_id)
    if bare:
        no_signal = not_(exists().where(Signal.document_id == Document.id))
        stmt = stmt.outerjoin(per_doc, per_doc.c.document_id == Document.id).where(
            or_(
                per_doc.c.document_id.is_not(None),
                and_(no_signal, *_document_conditions(f, dialect)),
            )
        )
    else:
        stmt = stmt.join(per_doc, per_doc.c.document_id == Document.id)
    return stmt, bare


def _order(stmt: Select[Any], sort: str) -> Select[Any]:
    """Sorted as the signals are: by the best score, the newest or oldest detection (a
    document without signals: when it was first seen), or the published date."""
    sub = stmt.subquery()
    last = func.coalesce(sub.c.last, sub.c.seen)
    first = func.coalesce(sub.c.first, sub.c.seen)
    orders: dict[str, tuple[Any, ...]] = {
        "score": (sub.c.best.desc().nulls_last(), sub.c.id.desc()),
        "detected": (last.desc(), sub.c.id.desc()),
        "published": (sub.c.published.desc().nulls_last(), sub.c.id.desc()),
        "oldest": (first.asc(), sub.c.id.asc()),
    }
    return select(sub).order_by(*orders[sort])


def _by_signals(
    session: Session, f: SignalFilter, sort: str, offset: int, limit: int
) -> tuple[int, list[int]]:
    """Documents with a matching signal, read off the signals in sort order (an index): the
    first signal of a document in that order is its best (or newest, or oldest), so a page
    needs only the signals down to its last document, not every signal grouped."""
    dialect = session.get_bind().dialect.name
    where = conditions(f, dialect)

    def narrow(stmt: Select[Any]) -> Select[Any]:
        if f.sources or f.countries:
            stmt = stmt.join(Source, Source.id == Signal.source_id)
        return stmt.where(*where)

    total = int(session.scalar(narrow(select(func.count(func.distinct(Signal.document_id))))) or 0)
    order = select(Signal.document_id)
    if sort == "published":
        order = order.join(Document, Document.id == Signal.document_id)
    seen: dict[int, None] = {}
    result = session.execute(
        narrow(order).order_by(*SORTS[sort]).execution_options(yield_per=1000)
    )
    try:
        for (document_id,) in result:
            seen.setdefault(document_id)
            if len(seen) >= offset + limit:
                break
    finally:
        result.close()
    return total, list(seen)[offset:]


def document_hits(
    session: Session, f: SignalFilter, sort: str = "score", offset: int = 0, limit: int = 50
) -> tuple[int, list[DocumentHit]]:
    """How many documents match ``f``, and one page of them, each with its signals."""
    dialect = session.get_bind().dialect.name
    ranked, bare = _ranked(f, sort, dialect)
    if bare:  # documents without signals count too: rank them all (a text search narrows)
        total = int(session.scalar(select(func.count()).select_from(ranked.subquery())) or 0)
        ids = [row.id for row in session.execute(_order(ranked, sort).offset(offset).limit(limit))]
    else:
        total, ids = _by_signals(session, f, sort, offset, limit)
    if not ids:
        return total, []
    docs = {
        d.id: (d, src)
        for d, src in session.execute(
            select(Document, Source)
            .join(Source, Source.id == Document.source_id)
            .where(Document.id.in_(ids))
        )
    }
    signals: dict[int, list[dict[str, Any]]] = {}
    stmt = signal_select(f, "score", dialect).where(Signal.document_id.in_(ids))
    for row in session.execute(stmt):
        item = dict(row._mapping)
        signals.setdefault(item["document_id"], []).append(item)
    texts: dict[int, str] = dict(
        session.execute(
            select(Document.id, func.substr(DocumentVersion.text, 1, SNIPPET))
            .join(
                DocumentVersion,
                (DocumentVersion.document_id == Document.id)
                & (DocumentVersion.version == Document.version),
            )
            .where(Document.id.in_([i for i in ids if i not in signals]))
        ).all()
    )
    hits = []
    for document_id in ids:
        doc, src = docs[document_id]
        mine = signals.get(document_id, [])
        categories = list(dict.fromkeys(s["category"] for s in mine))
        hits.append(
            DocumentHit(
                doc.id,
                doc.title,
                doc.url,
                doc.published_at,
                doc.first_seen_at,
                src.name,
                src.country,
                src.tier,
                doc.lang,
                mine[0]["score"] if mine else None,
                len(mine),
                categories,
                mine[0] if mine else None,
                mine[:PER_DOCUMENT],
                texts.get(document_id, ""),
            )
        )
    return total, hits
