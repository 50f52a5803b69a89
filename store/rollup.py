"""Where facet and timeline counts come from: ``signal_combos`` for all time,
``signal_weekly`` for whole UTC weeks, the ``signals`` table for the rest.

A signal's category, language, source and mentioned countries make its *combination*
(``signals.combo_id``); a year of signals has a few thousand. A filter splits in two:
- *dimensions* — category, language, source, country: properties of the combination, so
  they are applied to a few thousand combinations in Python, or as ``combo_id IN
  (SELECT id FROM signal_combos WHERE …)`` where SQL needs them;
- *scope* — the time span, a minimum score and full text. All time is read off
  ``signal_combos``; whole weeks of a span off ``signal_weekly``; the partial weeks at its
  ends (an arbitrary ``since``/``until``) are counted from ``signals`` over the covering index
  ``ix_signals_detected_combo``. A minimum score or a text search cannot be read off counts:
  those count ``signals`` directly.

The counts are exact: triggers move them in the same transaction as every insert, update
and delete of a signal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Integer, Select, column, false, func, or_, select
from sqlalchemy.orm import Session

from regwatch.store.analyst import mentions_country
from regwatch.store.fulltext import matching_documents
from regwatch.store.models import Signal, SignalCombo, SignalWeekly, Source
from regwatch.store.search import parse

__all__ = [
    "Combo",
    "Dimensions",
    "Span",
    "as_date",
    "dimension_clause",
    "monday",
    "passing",
    "signal_week",
    "span_clause",
    "spans",
    "text_ids",
]

WEEK = timedelta(days=7)


def monday(when: datetime) -> datetime:
    """00:00 UTC on the Monday of ``when``'s UTC week."""
    day = when.astimezone(UTC).date()
    return datetime.combine(day - timedelta(days=day.weekday()), time(), UTC)


@dataclass(frozen=True)
class Span:
    """A half-open stretch of detection time; ``weekly`` when it is whole weeks read from
    ``signal_weekly``. None is unbounded."""

    lo: datetime | None
    hi: datetime | None
    weekly: bool


def spans(since: datetime | None, until: datetime | None, exact: bool) -> Iterator[Span]:
    """Cover [since, until): whole weeks from the weekly counts, partial weeks from signals
    (everything from signals when ``exact``)."""
    if exact:
        yield Span(since, until, False)
        return
    first = None if since is None else monday(since)
    if first is not None and since is not None and first < since:
        if first > datetime.max.replace(tzinfo=UTC) - 2 * WEEK:  # the end of the calendar
            yield Span(since, until, False)
            return
        first += WEEK
    last = None if until is None else monday(until)
    if first is not None and last is not None and first >= last:  # no whole week inside
        yield Span(since, until, False)
        return
    if since is not None and first is not None and since < first:
        yield Span(since, first, False)
    yield Span(first, last, True)
    if until is not None and last is not None and last < until:
        yield Span(last, until, False)


class Combo(NamedTuple):  # a few thousand per request: cheap to build
    category: str
    lang: str  # "" for none
    source_id: int
    mentions: str
    n: int  # signals with it, all time
    source: str  # the source's name
    concerns: frozenset[str]  # its source's country and those its context names


@dataclass(frozen=True)
class Dimensions:
    """The sources' names and countries and the signals' combinations, read once per
    request (a few thousand rows at most)."""

    names: dict[int, str]
    countries: dict[int, str]
    combos: dict[int, Combo]
    seen: dict[tuple[int, str], frozenset[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> Dimensions:
        rows = session.execute(select(Source.id, Source.name, Source.country)).all()
        names = {i: n for i, n, _ in rows}
        countries = {i: c for i, _, c in rows}
        # Straight from the driver: a few thousand plain tuples, no per-row processing.
        cursor = session.connection().connection.cursor()
        try:
            cursor.execute("SELECT id, category, lang, source_id, mentions, n FROM signal_combos")
            found = cursor.fetchall()
        finally:
            cursor.close()
        dims = cls(names, countries, {})
        for i, cat, lang, src, mn, n in found:
            concerns = dims.concerns(src, mn)
            dims.combos[i] = Combo(cat, lang, src, mn, n, names.get(src, ""), concerns)
        return dims

    def combo(self, session: Session, combo_id: int) -> Combo:
        """The combination ``combo_id``; one a writer added since :meth:`load` is read then
        (combinations are never deleted)."""
        found = self.combos.get(combo_id)
        if found is None:
            self.combos.update(Dimensions.load(session).combos)
            found = self.combos[combo_id]
        return found

    def concerns(self, source_id: int, mentions: str) -> frozenset[str]:
        """The countries a signal concerns: its source's and those its context names."""
        key = (source_id, mentions)
        found = self.seen.get(key)
        if found is None:
            found = self.seen[key] = _concerns(self.countries, source_id, mentions)
        return found


def _concerns(countries: dict[int, str], source_id: int, mentions: str) -> frozenset[str]:
    found = {c for c in mentions.split(",") if c}
    own = countries.get(source_id)
    return frozenset(found | {own} if own else found)


def dimension_clause(
    table: Any,
    dims: Dimensions,
    *,
    categories: tuple[str, ...] = (),
    languages: tuple[str, ...] = (),
    sources: tuple[str, ...] = (),
    countries: tuple[str, ...] = (),
) -> list[ColumnElement[bool]]:
    """Conditions on ``table`` (``Signal``, ``SignalCombo`` or — without languages —
    ``SignalWeekly``: the same column names)."""
    out: list[ColumnElement[bool]] = []
    if categories:
        out.append(table.category.in_(categories))
    if languages:
        out.append(table.lang.in_(languages))
    if sources:
        ids = [i for i, n in dims.names.items() if n in sources]
        out.append(table.source_id.in_(ids) if ids else false())
    if countries:
        own = [i for i, c in dims.countries.items() if c in countries]
        named = [mentions_country(table.mentions, c) for c in countries]
        out.append(or_(table.source_id.in_(own), *named) if own else or_(*named))
    return out


def passing(dims: Dimensions, **wanted: tuple[str, ...]) -> Any:
    """``SELECT id FROM signal_combos`` narrowed to the combinations ``wanted`` allows (as
    :func:`dimension_clause` takes it); None when nothing is narrowed."""
    conditions = dimension_clause(SignalCombo, dims, **wanted)
    return select(SignalCombo.id).where(*conditions) if conditions else None


def text_ids(text: str, dialect: str) -> Select[tuple[int]]:
    """The ids of documents matching a full-text query (QuerySyntaxError when it is bad)."""
    from regwatch.nlp.index import search_terms

    matching, params = matching_documents(dialect, parse(text, search_terms))
    ids = matching.bindparams(**params).columns(column("id", Integer)).subquery()
    return select(ids.c.id)


def signal_week(dialect: str) -> Any:
    """The Monday (a date) of a signal's UTC week, as the triggers compute it."""
    if dialect == "sqlite":  # the day cut first, as in the triggers (date() rounds to ms)
        return func.date(func.substr(Signal.detected_at, 1, 10), "-6 days", "weekday 1")
    return func.date(func.date_trunc("week", func.timezone("UTC", Signal.detected_at)))


def span_clause(span: Span) -> list[ColumnElement[bool]]:
    """``span`` as conditions on ``signals`` (partial weeks) or ``signal_weekly`` (whole)."""
    if span.weekly:
        out = []
        if span.lo is not None:
            out.append(SignalWeekly.week >= span.lo.date())
        if span.hi is not None:
            out.append(SignalWeekly.week < span.hi.date())
        return [SignalWeekly.n > 0, *out]
    out = []
    if span.lo is not None:
        out.append(Signal.detected_at >= span.lo)
    if span.hi is not None:
        out.append(Signal.detected_at < span.hi)
    return out


def as_date(value: object) -> date:
    """A week value as the driver returns it (a date, a datetime or ISO text)."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
