"""Facet counts, the weekly timeline and one page of signals — each a single SQL statement
(GROUP BY over indexed columns), the same on SQLite and PostgreSQL, for the web UI, its JSON
API, the CLI and the benchmarks.

A country matches a signal's source country or any country mentioned in its context (the JSON
list ``signals.countries``), as in :func:`store.analyst.country_clause`; the country facet and
timeline expand that list with SQLite's ``json_each`` or PostgreSQL's
``jsonb_array_elements_text``.

Facets are counted the usual way for multi-select filters: each dimension's counts apply every
other filter but not its own, so a user can see what ticking one more value would add.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    case,
    cast,
    column,
    func,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from errors import ConfigError
from store.analyst import SignalFilter, country_clause, signal_select
from store.fulltext import matching_documents
from store.models import Document, Signal, Source
from store.search import parse

__all__ = [
    "FACETS",
    "Facets",
    "Summary",
    "Timeline",
    "facet_counts",
    "signal_page",
    "summary",
    "timeline",
]

Dimension = Literal["category", "country", "source", "language"]
Rows = Select[*tuple[Any, ...]]
FACETS: tuple[Dimension, ...] = ("category", "country", "source", "language")


@dataclass(frozen=True)
class Summary:
    total: int
    first: datetime | None  # detected_at of the oldest matching signal
    last: datetime | None


@dataclass(frozen=True)
class Facets:
    counts: dict[str, list[tuple[str, int]]]  # dimension → (value, count), most first
    summary: Summary


@dataclass(frozen=True)
class Timeline:
    by: str  # "category" or "country"
    weeks: tuple[date, ...]  # Mondays, oldest first, without gaps
    series: tuple[tuple[str, tuple[int, ...]], ...]  # (key, count per week), biggest first


def _text_ids(f: SignalFilter, dialect: str) -> Select[tuple[int]]:
    from nlp.index import search_terms

    matching, params = matching_documents(dialect, parse(f.text, search_terms))
    ids = matching.bindparams(**params).columns(column("id", Integer)).subquery()
    return select(ids.c.id)


def _scoped(
    stmt: Rows,
    f: SignalFilter,
    dialect: str,
    skip: str = "",
    *,
    join: bool = False,
    joined: bool = False,
) -> Rows:
    """``stmt`` (selecting from ``signals``) narrowed by ``f`` except dimension ``skip``;
    documents and sources are joined only when a filter or ``join`` needs them (and not again
    when ``joined`` says ``stmt`` has them)."""
    needed = join or (f.sources and skip != "source") or (f.countries and skip != "country")
    if needed and not joined:
        stmt = stmt.join(Document, Document.id == Signal.document_id).join(
            Source, Source.id == Document.source_id
        )
    conditions: list[ColumnElement[bool]] = []
    if f.categories and skip != "category":
        conditions.append(Signal.category.in_(f.categories))
    if f.languages and skip != "language":
        conditions.append(Signal.lang.in_(f.languages))
    if f.sources and skip != "source":
        conditions.append(Source.name.in_(f.sources))
    if f.countries and skip != "country":
        conditions.append(country_clause(f.countries, dialect))
    if f.since is not None:
        conditions.append(Signal.detected_at >= f.since)
    if f.until is not None:
        conditions.append(Signal.detected_at < f.until)
    if f.min_score:
        conditions.append(Signal.score >= f.min_score)
    if f.text.strip():
        conditions.append(Signal.document_id.in_(_text_ids(f, dialect)))
    return stmt.where(*conditions) if conditions else stmt


def _mentions_each(dialect: str) -> Any:
    """A table of the countries a signal's context names (a sorted set, so each once)."""
    if dialect == "sqlite":
        return func.json_each(Signal.countries).table_valued("value")
    raw = cast(Signal.countries, JSONB)
    array = case((func.jsonb_typeof(raw) == "array", raw), else_=literal_column("'[]'::jsonb"))
    return func.jsonb_array_elements_text(array).table_valued("value").lateral()


def _country_rows(f: SignalFilter, dialect: str, skip: str, *extra: Any) -> Any:
    """One row per (signal, country it concerns) — its source's country, and each other
    country it mentions — with ``extra`` columns; counting these rows needs no DISTINCT."""
    own = _scoped(
        select(Source.country.label("value"), *extra).select_from(Signal), f, dialect, skip,
        join=True,
    )  # fmt: skip
    each = _mentions_each(dialect)
    mentioned = (
        select(each.c.value.label("value"), *extra)
        .select_from(Signal)
        .join(Document, Document.id == Signal.document_id)
        .join(Source, Source.id == Document.source_id)
        .join(each, true())
        .where(each.c.value != Source.country)
    )
    mentioned = _scoped(mentioned, f, dialect, skip, joined=True)
    return union_all(own, mentioned).subquery()


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def summary(session: Session, f: SignalFilter) -> Summary:
    """How many signals match, and the span of their detection times."""
    stmt: Rows = select(
        func.count(), func.min(Signal.detected_at), func.max(Signal.detected_at)
    ).select_from(Signal)
    total, first, last = session.execute(_scoped(stmt, f, _dialect(session))).one()
    return Summary(int(total), first, last)  # min/max keep the column type: aware UTC


def _facet(session: Session, f: SignalFilter, dimension: Dimension) -> list[tuple[str, int]]:
    dialect = _dialect(session)
    if dimension == "country":
        rows = _country_rows(f, dialect, "country")
        key: Any = rows.c.value
        n = func.count()
        stmt = select(key, n)
    else:
        key = {"category": Signal.category, "language": Signal.lang, "source": Source.name}[
            dimension
        ]
        n = func.count()
        stmt = _scoped(
            select(key, n).select_from(Signal), f, dialect, dimension, join=dimension == "source"
        )
    rows = session.execute(stmt.group_by(key).order_by(n.desc(), key))
    return [(str(value), int(count)) for value, count in rows if value is not None]


def facet_counts(session: Session, f: SignalFilter) -> Facets:
    """Counts per category, country, source and language, and the matching total."""
    return Facets({d: _facet(session, f, d) for d in FACETS}, summary(session, f))


def _week(dialect: str) -> Any:
    if dialect == "sqlite":  # the Monday on or before the day
        return func.date(Signal.detected_at, "-6 days", "weekday 1")
    return func.to_char(
        func.date_trunc("week", func.timezone("UTC", Signal.detected_at)), "YYYY-MM-DD"
    )


def timeline(
    session: Session, f: SignalFilter, by: str = "category", max_weeks: int = 260
) -> Timeline:
    """Signals per week (Monday to Sunday, UTC) per category or per country. By country a
    signal counts once for each country it concerns (its source's, and those it mentions),
    so the bars of one week can add up to more than its signals."""
    if by not in ("category", "country"):
        raise ConfigError(f"timeline: by={by!r}; use category or country")
    dialect = _dialect(session)
    week = _week(dialect).label("week")
    if by == "category":
        stmt = _scoped(select(week, Signal.category, func.count()).select_from(Signal), f, dialect)
        stmt = stmt.group_by(week, Signal.category)
    else:
        rows = _country_rows(f, dialect, "", week)
        stmt = select(rows.c.week, rows.c.value, func.count()).group_by(rows.c.week, rows.c.value)
    counts: dict[tuple[date, str], int] = {}
    for w, key, n in session.execute(stmt):
        counts[(date.fromisoformat(str(w)[:10]), str(key))] = int(n)
    if not counts:
        return Timeline(by, (), ())
    first, last = min(w for w, _ in counts), max(w for w, _ in counts)
    span = (last - first).days // 7 + 1
    weeks = tuple(
        date.fromordinal(last.toordinal() - 7 * i) for i in range(min(span, max_weeks) - 1, -1, -1)
    )
    keys = sorted({k for _, k in counts})
    series = [(k, tuple(counts.get((w, k), 0) for w in weeks)) for k in keys]
    series = [s for s in series if any(s[1])]
    series.sort(key=lambda s: (-sum(s[1]), s[0]))
    return Timeline(by, weeks, tuple(series))


def signal_page(
    session: Session, f: SignalFilter, sort: str = "score", offset: int = 0, limit: int = 50
) -> list[dict[str, Any]]:
    """One page of :data:`store.analyst.COLUMNS` rows."""
    stmt = signal_select(f, sort, _dialect(session))
    return [dict(r._mapping) for r in session.execute(stmt.offset(offset).limit(limit))]
