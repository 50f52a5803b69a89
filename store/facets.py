"""Facet counts, the weekly timeline and one page of signals, the same on SQLite and
PostgreSQL, for the web UI, its JSON API, the CLI and the benchmarks.

Counts come from ``signal_combos`` for all time, ``signal_weekly`` for whole weeks and
``signals`` for the rest (store/rollup.py), so a year of signals costs a few thousand rows
of counts, not a million signals.

A country matches a signal's source country or any country mentioned in its context
(``signals.mentions``), as in :func:`regwatch.store.analyst.country_clause`.

Facets are counted the usual way for multi-select filters: each dimension's counts apply every
other filter but not its own, so a user can see what ticking one more value would add.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from regwatch.errors import UsageError
from regwatch.store.analyst import SignalFilter, signal_select
from regwatch.store.models import Signal, SignalWeekly
from regwatch.store.rollup import (
    WEEK,
    Combo,
    Dimensions,
    Span,
    as_date,
    dimension_clause,
    passing,
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


def _exact(f: SignalFilter) -> bool:
    """A minimum score or a text search cannot be read off counts."""
    return bool(f.text.strip()) or f.min_score > 0


def _wanted(f: SignalFilter, skip: str = "") -> dict[str, tuple[str, ...]]:
    return {
        "categories": () if skip == "category" else f.categories,
        "languages": () if skip == "language" else f.languages,
        "sources": () if skip == "source" else f.sources,
        "countries": () if skip == "country" else f.countries,
    }


def _scope(f: SignalFilter, dialect: str) -> list[Any]:
    out: list[Any] = []
    if f.min_score:
        out.append(Signal.score >= f.min_score)
    if f.text.strip():
        out.append(Signal.document_id.in_(text_ids(f.text, dialect)))
    return out


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _weekly_sums(session: Session, span: Span, dims: Dimensions) -> dict[int, int]:
    """Signals per combination over the whole weeks of ``span``: all time off
    ``signal_combos``; otherwise off ``signal_weekly``, reading the weeks inside the span or
    those outside it (subtracted from all time), whichever are fewer."""
    totals = {i: c.n for i, c in dims.combos.items() if c.n}
    if span.lo is None and span.hi is None:
        return totals
    W = SignalWeekly
    first, last = session.scalar(select(func.min(W.week))), session.scalar(select(func.max(W.week)))
    if first is None or last is None:
        return {}
    lo = span.lo.date() if span.lo else as_date(first)
    hi = span.hi.date() if span.hi else as_date(last) + WEEK
    inside = (hi - lo).days
    outside = (as_date(last) + WEEK - as_date(first)).days - inside
    if outside < inside and _one_snapshot(session):  # all time minus the weeks outside
        rest = or_(W.week < lo, W.week >= hi)
        stmt = select(W.combo_id, func.sum(W.n)).where(rest).group_by(W.combo_id)
        for combo, n in session.execute(stmt):
            totals[combo] = totals.get(combo, 0) - int(n)
        return {c: n for c, n in totals.items() if n}
    stmt = select(W.combo_id, func.sum(W.n)).where(*span_clause(span)).group_by(W.combo_id)
    stmt = stmt.with_hint(W, "INDEXED BY ix_signal_weekly_combo", "sqlite")
    return {combo: int(n) for combo, n in session.execute(stmt) if n}


def _one_snapshot(session: Session) -> bool:
    """Whether every statement of this transaction sees the same data — SQLite's, or
    PostgreSQL's REPEATABLE READ (the read-only engine's) — so counts read at different
    moments can be subtracted."""
    if _dialect(session) == "sqlite":
        return True
    level = session.connection().get_isolation_level()
    return level in ("REPEATABLE READ", "SERIALIZABLE")


def _combo_counts(session: Session, f: SignalFilter, dims: Dimensions) -> dict[int, int]:
    """Signals in ``f``'s scope (time, score, text) per combination, dimensions not applied."""
    dialect = _dialect(session)
    counts: dict[int, int] = {}
    for span in spans(f.since, f.until, _exact(f)):
        if span.weekly:
            part = _weekly_sums(session, span, dims)
        else:
            stmt = (
                select(Signal.combo_id, func.count())
                .where(*span_clause(span), *_scope(f, dialect))
                .group_by(Signal.combo_id)
            )
            part = {combo: int(n) for combo, n in session.execute(stmt)}
        for combo, n in part.items():
            counts[combo] = counts.get(combo, 0) + n
    return counts


def _edge(session: Session, f: SignalFilter, dims: Dimensions, latest: bool) -> datetime | None:
    """The detection time of the first (or ``latest``) matching signal: read from the first
    stretch, in time order, that has one — a whole week is looked up in the weekly counts and
    only that week's signals are read."""
    dialect = _dialect(session)
    agg = func.max if latest else func.min
    combos = passing(dims, **_wanted(f))
    parts = list(spans(f.since, f.until, _exact(f)))
    for span in reversed(parts) if latest else parts:
        if span.weekly:
            stmt = select(agg(SignalWeekly.week)).where(*span_clause(span))
            if combos is not None:
                stmt = stmt.where(SignalWeekly.combo_id.in_(combos))
            week = session.scalar(stmt)
            if week is None:
                continue
            lo = datetime.combine(as_date(week), time(), UTC)
            span = Span(lo, lo + WEEK, False)
        exact = select(agg(Signal.detected_at)).where(*span_clause(span), *_scope(f, dialect))
        if combos is not None:
            exact = exact.where(Signal.combo_id.in_(combos))
        found: datetime | None = session.scalar(exact)
        if found is not None:
            return found
    return None


def _passes(f: SignalFilter, combo: Combo) -> tuple[bool, bool, bool, bool]:
    """Whether ``combo`` passes ``f``'s category, language, source and country filters."""
    return (
        not f.categories or combo.category in f.categories,
        not f.languages or combo.lang in f.languages,
        not f.sources or combo.source in f.sources,
        not f.countries or not combo.concerns.isdisjoint(f.countries),
    )


def summary(session: Session, f: SignalFilter) -> Summary:
    """How many signals match, and the span of their detection times."""
    dims = Dimensions.load(session)
    counts = _combo_counts(session, f, dims)
    total = sum(n for c, n in counts.items() if all(_passes(f, dims.combo(session, c))))
    return _summary(session, f, dims, total)


def _summary(session: Session, f: SignalFilter, dims: Dimensions, total: int) -> Summary:
    if not total:
        return Summary(0, None, None)
    if _exact(f):  # one pass over the signals in scope gives both ends
        stmt = select(func.min(Signal.detected_at), func.max(Signal.detected_at)).where(
            *span_clause(Span(f.since, f.until, False)), *_scope(f, _dialect(session))
        )
        combos = passing(dims, **_wanted(f))
        if combos is not None:
            stmt = stmt.where(Signal.combo_id.in_(combos))
        first, last = session.execute(stmt).one()
        return Summary(total, first, last)
    return Summary(total, _edge(session, f, dims, False), _edge(session, f, dims, True))


def facet_counts(session: Session, f: SignalFilter) -> Facets:
    """Counts per category, country, source and language, and the matching total: signals in
    scope counted per combination, then each facet sums the combinations that pass every
    other dimension's filter."""
    dims = Dimensions.load(session)
    tallies: dict[str, dict[str, int]] = {d: {} for d in FACETS}
    by_category, by_language = tallies["category"], tallies["language"]
    by_source, by_country = tallies["source"], tallies["country"]
    total = 0
    for combo_id, n in _combo_counts(session, f, dims).items():
        combo = dims.combo(session, combo_id)
        ok = _passes(f, combo)
        failed = ok.count(False)
        if failed > 1:
            continue
        if failed == 0:
            total += n
        category, language, source, country = ok
        # Each dimension counts what passes every other dimension's filter.
        if failed == 0 or not category:
            by_category[combo.category] = by_category.get(combo.category, 0) + n
        if (failed == 0 or not language) and combo.lang:
            by_language[combo.lang] = by_language.get(combo.lang, 0) + n
        if (failed == 0 or not source) and combo.source:
            by_source[combo.source] = by_source.get(combo.source, 0) + n
        if failed == 0 or not country:
            for c in combo.concerns:
                by_country[c] = by_country.get(c, 0) + n
    counts = {d: sorted(t.items(), key=lambda kv: (-kv[1], kv[0])) for d, t in tallies.items()}
    return Facets(counts, _summary(session, f, dims, total))


def timeline(
    session: Session, f: SignalFilter, by: str = "category", max_weeks: int = 260
) -> Timeline:
    """Signals per week (Monday to Sunday, UTC) per category or per country. By country a
    signal counts once for each country it concerns (its source's, and those it mentions),
    so the bars of one week can add up to more than its signals."""
    if by not in ("category", "country"):
        raise UsageError(f"timeline: by={by!r}; use category or country")
    dims = Dimensions.load(session)
    dialect = _dialect(session)
    combos = passing(dims, **_wanted(f))
    conn = session.connection()  # Core rows: tens of thousands of them, no ORM work
    # (week as the driver returns it, category or set of countries) → signals
    tally: dict[tuple[Any, Any], int] = {}
    for span in spans(f.since, f.until, _exact(f)):
        if not span.weekly:  # per combination from signals, mapped here
            week = signal_week(dialect)
            stmt = select(week, Signal.combo_id, func.count()).where(
                *span_clause(span), *_scope(f, dialect)
            )
            if combos is not None:
                stmt = stmt.where(Signal.combo_id.in_(combos))
            for w, combo_id, n in conn.execute(stmt.group_by(week, Signal.combo_id)):
                combo = dims.combo(session, combo_id)
                k = (w, combo.category if by == "category" else combo.concerns)
                tally[k] = tally.get(k, 0) + n
            continue
        W = SignalWeekly
        if by == "category":
            grouping: tuple[Any, ...] = (W.week, W.category)
        else:
            grouping = (W.week, W.source_id, W.mentions)
        index = "ix_signal_weekly_category" if by == "category" else "ix_signal_weekly_country"
        # SQLite would pick the combo_id index for the IN list and then sort; the index in
        # the GROUP BY's order streams instead.
        weekly = select(*grouping, func.sum(W.n)).where(*span_clause(span))
        weekly = weekly.with_hint(W, f"INDEXED BY {index}", "sqlite")
        # The weekly rows carry category, source and mentions: filter on them directly;
        # only a language filter needs the combinations.
        wanted = _wanted(f) | {"languages": ()}
        weekly = weekly.where(*dimension_clause(W, dims, **wanted))
        if f.languages:
            weekly = weekly.where(W.combo_id.in_(passing(dims, languages=f.languages)))
        for row in conn.execute(weekly.group_by(*grouping)):
            key = row[1] if by == "category" else dims.concerns(row[1], row[2])
            tally[(row[0], key)] = tally.get((row[0], key), 0) + row[-1]
    counts: dict[tuple[date, str], int] = {}
    weeks_seen: dict[Any, date] = {}
    for (w, key), n in tally.items():
        week_date = weeks_seen.get(w)
        if week_date is None:
            week_date = weeks_seen[w] = as_date(w)
        for k in (key,) if by == "category" else key:
            counts[(week_date, k)] = counts.get((week_date, k), 0) + int(n)
    if not counts:
        return Timeline(by, (), ())
    first, last = min(w for w, _ in counts), max(w for w, _ in counts)
    n_weeks = min((last - first).days // 7 + 1, max_weeks)
    weeks = tuple(date.fromordinal(last.toordinal() - 7 * i) for i in range(n_weeks - 1, -1, -1))
    keys = sorted({k for _, k in counts})
    series = [(k, tuple(counts.get((w, k), 0) for w in weeks)) for k in keys]
    series = [s for s in series if any(s[1])]
    series.sort(key=lambda s: (-sum(s[1]), s[0]))
    return Timeline(by, weeks, tuple(series))


def signal_page(
    session: Session, f: SignalFilter, sort: str = "score", offset: int = 0, limit: int = 50
) -> list[dict[str, Any]]:
    """One page of :data:`regwatch.store.analyst.COLUMNS` rows."""
    stmt = signal_select(f, sort, _dialect(session), limit=limit, offset=offset)
    return [dict(r._mapping) for r in session.execute(stmt)]
