"""The analysts' read side: signals with their document and source, filtered, sorted and
streamed — what `regwatch query`, `regwatch export` and the web UI share.

Every value the user gives is a bound parameter; nothing they type is spliced into SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    column,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from regwatch.errors import UsageError
from regwatch.store.fulltext import matching_documents
from regwatch.store.models import Document, DocumentVersion, Signal, Source
from regwatch.store.search import parse

__all__ = [
    "COLUMNS",
    "SORTS",
    "SignalFilter",
    "country_clause",
    "iter_documents",
    "iter_signals",
    "mentions_country",
    "signal_select",
]

# The columns of `signal_view`, in order: stable names for exports and the API.
COLUMNS = (
    "signal_id",
    "category",
    "score",
    "reason",
    "rule",
    "match",
    "sentence",
    "field",
    "start",
    "end",
    "language",
    "countries",
    "bodies",
    "attributes",
    "detected_at",
    "document_id",
    "title",
    "url",
    "published_at",
    "source",
    "source_country",
    "tier",
)

SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "score": (Signal.score.desc(), Signal.id.desc()),
    "detected": (Signal.detected_at.desc(), Signal.id.desc()),
    # An unknown date (NULL: none, epoch zero, impossible) sorts by when it was first seen.
    "published": (
        func.coalesce(Document.published_at, Document.first_seen_at).desc(),
        Signal.id.desc(),
    ),
    "oldest": (Signal.detected_at.asc(), Signal.id.asc()),
}


CODE = re.compile(r"[a-z]{2,16}")


@dataclass(frozen=True)
class SignalFilter:
    """What an analyst narrows the signals to; empty means no restriction."""

    categories: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # by the source's country or a mention in the signal
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    min_score: float = 0.0
    text: str = ""  # full-text search over the documents: words, "phrases", AND/OR/NOT, ( )

    def __post_init__(self) -> None:
        # Codes are stored in lower case; SQLite's LIKE would ignore case, PostgreSQL's not.
        for name in ("countries", "languages"):
            codes = tuple(c.strip().lower() for c in getattr(self, name))
            bad = [c for c in codes if not CODE.fullmatch(c)]
            if bad:
                raise UsageError(
                    f"{name} {bad[0]!r}: use codes of letters such as kz, uz or regional "
                    "(countries) and ru, en or kk (languages)"
                )
            object.__setattr__(self, name, codes)


def signal_select(
    f: SignalFilter,
    sort: str = "score",
    dialect: str = "sqlite",
    *,
    limit: int | None = None,
    offset: int = 0,
) -> Select[*tuple[Any, ...]]:
    """The SELECT behind `signal_view`, with the filter applied and sorted; a bad search
    text raises QuerySyntaxError. With a ``limit``, the page's signal ids are chosen first
    from narrow columns and indexes, and only that page's rows are read in full."""
    if sort not in SORTS:
        raise UsageError(f"--sort {sort!r}: use one of {', '.join(SORTS)}")
    stmt = (
        select(
            Signal.id.label("signal_id"),
            Signal.category,
            Signal.score,
            Signal.reason,
            Signal.rule,
            Signal.text.label("match"),
            Signal.sentence,
            Signal.field,
            Signal.start,
            Signal.end,
            Signal.lang.label("language"),
            Signal.countries,
            Signal.bodies,
            Signal.attributes,
            Signal.detected_at,
            Document.id.label("document_id"),
            Document.title,
            Document.url,
            Document.published_at,
            Source.name.label("source"),
            Source.country.label("source_country"),
            Source.tier,
        )
        .join(Document, Signal.document_id == Document.id)
        .join(Source, Document.source_id == Source.id)
    )
    conditions = _conditions(f, dialect)
    if limit is None:
        return stmt.where(*conditions).order_by(*SORTS[sort])
    page = select(Signal.id)
    if f.sources or f.countries:
        page = page.join(Source, Source.id == Signal.source_id)
    if sort == "published":
        page = page.join(Document, Document.id == Signal.document_id)
    page = page.where(*conditions).order_by(*SORTS[sort]).offset(offset).limit(limit)
    ids = page.subquery()
    return stmt.where(Signal.id.in_(select(ids.c.id))).order_by(*SORTS[sort])


def _conditions(f: SignalFilter, dialect: str) -> list[ColumnElement[bool]]:
    """``f`` as conditions on signals and their source (no document column needed)."""
    out: list[ColumnElement[bool]] = []
    if f.categories:
        out.append(Signal.category.in_(f.categories))
    if f.countries:
        out.append(country_clause(f.countries))
    if f.sources:
        out.append(Source.name.in_(f.sources))
    if f.languages:
        out.append(Signal.lang.in_(f.languages))
    if f.since is not None:
        out.append(Signal.detected_at >= f.since)
    if f.until is not None:
        out.append(Signal.detected_at < f.until)
    if f.min_score:
        out.append(Signal.score >= f.min_score)
    if f.text.strip():
        from regwatch.nlp.index import search_terms

        matching, params = matching_documents(dialect, parse(f.text, search_terms))
        ids = matching.bindparams(**params).columns(column("id", Integer)).subquery()
        out.append(Signal.document_id.in_(select(ids.c.id)))
    return out


def country_clause(countries: tuple[str, ...]) -> ColumnElement[bool]:
    """The signal's source is in one of ``countries``, or its context mentions one
    (``signals.mentions``, a ",kg,kz," key of the JSON list ``signals.countries``)."""
    named = [mentions_country(Signal.mentions, c) for c in countries]
    return or_(Source.country.in_(list(countries)), *named)


def mentions_country(mentions: Any, country: str) -> ColumnElement[bool]:
    """``mentions`` (a ",kg,kz," key) names ``country``."""
    escaped = country.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return mentions.like(f"%,{escaped},%", escape="\\")  # type: ignore[no-any-return]


def iter_signals(
    session: Session, f: SignalFilter, sort: str = "score", limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """Rows as dicts keyed by :data:`COLUMNS`, streamed in batches."""
    stmt = signal_select(f, sort, session.get_bind().dialect.name, limit=limit)
    result = session.execute(stmt.execution_options(yield_per=1000))
    try:  # a consumer that stops early must not leave a server-side cursor open
        for row in result:
            yield dict(row._mapping)
    finally:
        result.close()


def iter_documents(session: Session) -> Iterator[dict[str, Any]]:
    """Every document at its current version, in the shape `regwatch import` reads."""
    stmt = (
        select(Document, DocumentVersion.text, Source.name, Source.country)
        .join(
            DocumentVersion,
            (DocumentVersion.document_id == Document.id)
            & (DocumentVersion.version == Document.version),
        )
        .join(Source, Document.source_id == Source.id)
        .order_by(Document.id)
        .execution_options(yield_per=500)
    )
    result = session.execute(stmt)
    try:
        for doc, text, source, country in result:
            yield {
                "url": doc.url,
                "title": doc.title,
                "text": text,
                "published": doc.published_at,
                "source": source,
                "lang": doc.lang,
                "country": country,
            }
    finally:
        result.close()
