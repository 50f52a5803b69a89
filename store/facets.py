"""Facet counts, the weekly timeline and one page of signals, the same on SQLite and
PostgreSQL, for the web UI, its JSON API, the CLI and the benchmarks.

Counts come from ``signal_weekly`` for whole weeks and from ``signals`` for the rest
(store/rollup.py), so a year of signals costs a few thousand weekly rows, not a million.

A country matches a signal's source country or any country mentioned in its context
(``signals.mentions``), as in :func:`store.analyst.country_clause`.

Facets are counted the usual way for multi-select filters: each dimension's counts apply every
other filter but not its own, so a user can see what ticking one more value would add.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from errors import ConfigError
from store.analyst import SignalFilter, signal_select
from store.models import Signal, SignalWeekly
from store.rollup import (
    Dimensions,
    Span,
    as_date,
    dimension_clause,
    signal_week,
    span_clause,
    spans,
    text_ids,
)

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


Key = tuple[Any, ...]


def _exact(f: SignalFilter) -> bool:
    """A minimum score or a text search cannot be read off the weekly counts."""
    return bool(f.text.strip()) or f.min_score > 0


def _dims(f: SignalFilter, dims: Dimensions, table: Any, skip: str = "") -> list[Any]:
    return dimension_clause(
        table,
        dims,
        categories=() if skip == "category" else f.categories,
        languages=() if skip == "language" else f.languages,
        sources=() if skip == "source" else f.sources,
        countries=() if skip == "country" else f.countries,
    )


def _scope(f: SignalFilter, dialect: str) -> list[Any]:
    out: list[Any] = []
    if f.min_score:
        out.append(Signal.score >= f.min_score)
    if f.text.strip():
        out.append(Signal.document_id.in_(text_ids(f.text, dialect)))
    return out


def _counts(
    session: Session,
    f: SignalFilter,
    dims: Dimensions,
    keys: tuple[str, ...],
    *,
    weekly: bool = False,
    filtered: bool = True,
) -> dict[Key, int]:
    """Matching signals counted per ``keys`` (columns shared by both tables), per week
    first when ``weekly``; the dimension filters apply only when ``filtered``."""
    dialect = _dialect(session)
    counts: dict[Key, int] = {}
    for span in spans(f.since, f.until, _exact(f)):
        if span.weekly:
            table: Any = SignalWeekly
            cols = [getattr(table, k) for k in keys]
            if weekly:
                cols.insert(0, table.week)
            stmt = select(*cols, func.sum(table.n)).where(*span_clause(span))
        else:
            table = Signal
            cols = [func.coalesce(Signal.lang, "") if k == "lang" else getattr(Signal, k)
                    for k in keys]  # fmt: skip
            if weekly:
                cols.insert(0, signal_week(dialect))
            stmt = select(*cols, func.count()).where(*span_clause(span), *_scope(f, dialect))
        if filtered:
            stmt = stmt.where(*_dims(f, dims, table))
        if cols:
            stmt = stmt.group_by(*cols)
        for *key, n in session.execute(stmt):
            if n:
                if weekly:
                    key[0] = as_date(key[0])
                k = tuple(key)
                counts[k] = counts.get(k, 0) + int(n)
    return counts


def _edge(session: Session, f: SignalFilter, dims: Dimensions, latest: bool) -> datetime | None:
    """The detection time of the first (or ``latest``) matching signal: read from the first
    stretch, in time order, that has one — a whole week is looked up in the weekly counts and
    only that week's signals are read."""
    dialect = _dialect(session)
    agg = func.max if latest else func.min
    parts = list(spans(f.since, f.until, _exact(f)))
    for span in reversed(parts) if latest else parts:
        if span.weekly:
            week = session.scalar(
                select(agg(SignalWeekly.week)).where(
                    *span_clause(span), *_dims(f, dims, SignalWeekly)
                )
            )
            if week is None:
                continue
            lo = datetime.combine(as_date(week), time(), UTC)
            span = Span(lo, lo + timedelta(days=7), False)
        found = session.scalar(
            select(agg(Signal.detected_at)).where(
                *span_clause(span), *_scope(f, dialect), *_dims(f, dims, Signal)
            )
        )
        if found is not None:
            return found
    return None


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def summary(session: Session, f: SignalFilter, dims: Dimensions | None = None) -> Summary:
    """How many signals match, and the span of their detection times."""
    dims = dims or Dimensions.load(session)
    total = sum(_counts(session, f, dims, ()).values())
    if not total:
        return Summary(0, None, None)
    return Summary(total, _edge(session, f, dims, False), _edge(session, f, dims, True))


def facet_counts(session: Session, f: SignalFilter) -> Facets:
    """Counts per category, country, source and language, and the matching total: one count
    of the signals in scope grouped by every dimension at once, then each facet sums the
    groups that pass every other dimension's filter."""
    dims = Dimensions.load(session)
    groups = _counts(
        session, f, dims, ("category", "lang", "source_id", "mentions"), filtered=False
    )
    cats, langs, srcs, wanted = (
        set(f.categories), set(f.languages), set(f.sources), set(f.countries)
    )  # fmt: skip
    tallies: dict[str, dict[str, int]] = {d: {} for d in FACETS}
    total = 0
    for (category, lang, source_id, mentions), n in groups.items():
        source = dims.names.get(source_id, "")
        concerns = dims.concerns(source_id, mentions)
        ok = {
            "category": not cats or category in cats,
            "language": not langs or lang in langs,
            "source": not srcs or source in srcs,
            "country": not wanted or bool(concerns & wanted),
        }
        passed = sum(ok.values())
        if passed == 4:
            total += n
        for dimension, values in (("category", (category,)), ("language", (lang,)),
                                  ("source", (source,)), ("country", concerns)):  # fmt: skip
            if passed == 4 or (passed == 3 and not ok[dimension]):
                tally = tallies[dimension]
                for value in values:
                    if value:
                        tally[value] = tally.get(value, 0) + n
    counts = {d: sorted(t.items(), key=lambda kv: (-kv[1], kv[0])) for d, t in tallies.items()}
    if not total:
        return Facets(counts, Summary(0, None, None))
    return Facets(
        counts, Summary(total, _edge(session, f, dims, False), _edge(session, f, dims, True))
    )


def timeline(
    session: Session, f: SignalFilter, by: str = "category", max_weeks: int = 260
) -> Timeline:
    """Signals per week (Monday to Sunday, UTC) per category or per country. By country a
    signal counts once for each country it concerns (its source's, and those it mentions),
    so the bars of one week can add up to more than its signals."""
    if by not in ("category", "country"):
        raise ConfigError(f"timeline: by={by!r}; use category or country")
    dims = Dimensions.load(session)
    counts: dict[tuple[date, str], int] = {}
    if by == "category":
        for (week, category), n in _counts(session, f, dims, ("category",), weekly=True).items():
            counts[(week, category)] = n
    else:
        rows = _counts(session, f, dims, ("source_id", "mentions"), weekly=True)
        for (week, source_id, mentions), n in rows.items():
            for country in dims.concerns(source_id, mentions):
                counts[(week, country)] = counts.get((week, country), 0) + n
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
