"""The analysts' read side: signals with their document and source, filtered, sorted and
streamed — what `regwatch query`, `regwatch export` and the web UI share.

Every value the user gives is a bound parameter; nothing they type is spliced into SQL.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
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
    "check_categories",
    "conditions",
    "country_clause",
    "iter_documents",
    "iter_signals",
    "mentions_country",
    "parse_when",
    "signal_select",
    "text_documents",
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
SPAN_UNITS = {"h": 1, "d": 24, "w": 24 * 7}


def parse_when(
    text: str | None, name: str, *, end_of_day: bool = False, spans: bool = False
) -> datetime | None:
    """An instant from YYYY-MM-DD, an ISO 8601 time or (with ``spans``) a span back from now:
    36h, 7d, 2w. A bare day given as an upper bound (``end_of_day``) means through that whole
    day — the one meaning of --until, ``until=`` and the API's ``until``."""
    value = (text or "").strip()
    if not value:
        return None
    if spans and value[:-1].isdigit() and value[-1:] in SPAN_UNITS:
        return datetime.now(UTC) - timedelta(hours=int(value[:-1]) * SPAN_UNITS[value[-1]])
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1 if end_of_day else 0), time(), UTC)
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        span = ", or a span back from now (36h, 7d, 2w)" if spans else ""
        raise UsageError(
            f"{name} {value!r}: use a date (2026-11-01) or a time (2026-11-01T08:00+05:00)"
            + span
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def check_categories(session: Session, categories: Iterable[str]) -> None:
    """Refuse a category no rule defines and no stored signal has — a typo would otherwise
    match nothing, silently — naming the closest known ones."""
    wanted = [c for c in categories if c]
    if not wanted:
        return
    from regwatch.nlp.rules import category_titles

    known = set(category_titles()) | set(session.scalars(select(Signal.category).distinct()))
    for name in wanted:
        if name in known:
            continue
        words = set(name.lower().split("_"))  # draft_law → draft_instrument
        close = [k for k in sorted(known) if words & set(k.split("_"))]
        similar = difflib.get_close_matches(name, sorted(known), 3, 0.6)
        close += [k for k in similar if k not in close]
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise UsageError(
            f"category {name!r} is unknown; {hint}known: {', '.join(sorted(known))}"
        )


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
    where = conditions(f, dialect)
    if limit is None:
        return stmt.where(*where).order_by(*SORTS[sort])
    page = select(Signal.id)
    if f.sources or f.countries:
        page = page.join(Source, Source.id == Signal.source_id)
    if sort == "published":
        page = page.join(Document, Document.id == Signal.document_id)
    page = page.where(*where).order_by(*SORTS[sort]).offset(offset).limit(limit)
    ids = page.subquery()
    return stmt.where(Signal.id.in_(select(ids.c.id))).order_by(*SORTS[sort])


def conditions(f: SignalFilter, dialect: str) -> list[ColumnElement[bool]]:
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


def text_documents(session: Session, text: str) -> frozenset[int]:
    """The ids of the documents a full-text search matches (none for an empty one)."""
    if not text.strip():
        return frozenset()
    from regwatch.store.rollup import text_ids

    return frozenset(session.scalars(text_ids(text, session.get_bind().dialect.name)))


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
