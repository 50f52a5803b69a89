"""signal_weekly stays equal to a GROUP BY of signals through inserts, updates and deletes,
and facets and timelines read from it (with partial weeks from signals) equal counts taken
from the rows themselves, for spans that start and end anywhere in a week — on both engines."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, insert, select, update

from regwatch.errors import UsageError
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.analyst import SignalFilter, iter_signals
from regwatch.store.facets import facet_counts, summary, timeline
from regwatch.store.fulltext import index_document
from regwatch.store.rollup import Dimensions, monday, signal_week, spans

START = datetime(2026, 8, 3, tzinfo=UTC)  # a Monday
CATEGORIES = ("draft_instrument", "digital_security", "data_localization")
COUNTRIES = ("kz", "uz", "tj", "kg")
WORDS = ("законопроект", "безопасность", "biometric", "data", "стратегия")


def _seed(engine: Engine, n: int = 400, seed: int = 5) -> None:
    rng = random.Random(seed)
    with db.session_scope(engine) as s:
        for i, country in enumerate(COUNTRIES):
            s.add(m.Source(id=i + 1, name=f"src-{country}", url=f"https://{country}.example/rss",
                           type="rss", country=country, languages=["ru"], tier="news"))  # fmt: skip
        s.flush()
        for d in range(1, 61):
            when = START + timedelta(hours=rng.randrange(10 * 7 * 24))
            s.add(m.Document(id=d, source_id=rng.randrange(1, 5), url=f"https://x/{d}",
                             canonical_url=f"https://x/{d}", title=f"t{d}", lang="ru",
                             published_at=when, content_hash=f"h{d}", version=1))  # fmt: skip
            s.add(m.DocumentVersion(id=d, document_id=d, version=1, title=f"t{d}", text="x",
                                    content_hash=f"h{d}"))  # fmt: skip
        s.flush()
        for d in range(1, 61):
            index_document(s, d, list(rng.sample(WORDS, 2)))
        rows = []
        for i in range(n):
            mentioned = rng.sample(COUNTRIES, rng.choice((0, 0, 1, 2)))
            rows.append({
                "document_id": (doc := rng.randrange(1, 61)), "version_id": doc,
                "category": rng.choice(CATEGORIES), "rule": "r", "field": "text", "text": "x",
                "start": i, "end": i + 1, "sentence": "x", "score": round(rng.random(), 2),
                "reason": "x", "lang": rng.choice(("ru", "en", None)), "countries": mentioned,
                "bodies": [], "attributes": {},
                "detected_at": START + timedelta(minutes=rng.randrange(10 * 7 * 24 * 60)),
            })  # fmt: skip
        s.execute(insert(m.Signal), rows)  # source_id and mentions from their defaults


def _grouped(engine: Engine) -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
    """(the kept counts, the same counted from signals): per combination, and per week,
    category and combination."""
    dialect = engine.dialect.name
    S, C, W = m.Signal, m.SignalCombo, m.SignalWeekly
    with db.session_scope(engine) as s:
        kept: Counter[tuple[Any, ...]] = Counter()
        for cid, cat, lang, src, mn, n in s.execute(
            select(C.id, C.category, C.lang, C.source_id, C.mentions, C.n).where(C.n != 0)
        ):
            kept[("all", cid, cat, lang, src, mn)] = n
        for week, cat, cid, n in s.execute(select(W.week, W.category, W.combo_id, W.n)):
            if n:
                kept[("week", str(week)[:10], cat, cid)] = n
        direct: Counter[tuple[Any, ...]] = Counter()
        no_lang = func.coalesce(S.lang, "")
        cols = (S.combo_id, S.category, no_lang, S.source_id, S.mentions)
        for *key, n in s.execute(select(*cols, func.count()).group_by(*cols)):
            direct[("all", *key)] = n
        week = signal_week(dialect)
        for w, cat, cid, n in s.execute(
            select(week, S.category, S.combo_id, func.count()).group_by(
                week, S.category, S.combo_id
            )
        ):
            direct[("week", str(w)[:10], cat, cid)] = n
    return kept, direct


def test_counts_follow_inserts_updates_and_deletes(engine: Engine) -> None:
    _seed(engine)
    kept, direct = _grouped(engine)
    assert kept == direct
    assert sum(n for k, n in direct.items() if k[0] == "all") == 400
    with db.session_scope(engine) as s:
        assert s.scalar(select(func.count()).where(m.Signal.source_id.is_(None))) == 0
        s.execute(
            update(m.Signal)
            .where(m.Signal.id % 7 == 0)
            .values(detected_at=START + timedelta(days=100))
        )
    kept, direct = _grouped(engine)
    assert kept == direct
    with db.session_scope(engine) as s:
        s.execute(delete(m.Document).where(m.Document.id <= 20))  # cascades to signals
        s.execute(delete(m.Signal).where(m.Signal.id % 5 == 0))
    kept, direct = _grouped(engine)
    assert kept == direct
    assert sum(n for k, n in direct.items() if k[0] == "all") < 400


@pytest.mark.parametrize("column", ["category", "lang", "source_id", "mentions", "combo_id"])
def test_a_stored_signal_keeps_its_combination(engine: Engine, column: str) -> None:
    _seed(engine, n=5)
    value: Any = {"category": "content_control", "lang": "kk", "source_id": 2,
                  "mentions": ",tm,", "combo_id": 1}[column]  # fmt: skip
    with pytest.raises(Exception, match="fixed once stored"), db.session_scope(engine) as s:
        s.execute(
            update(m.Signal).where(getattr(m.Signal, column) != value).values({column: value})
        )
    kept, direct = _grouped(engine)
    assert kept == direct


def test_spans_cover_the_range_once() -> None:
    since = datetime(2026, 9, 2, 13, 5, tzinfo=UTC)  # a Wednesday
    until = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)  # a Thursday
    parts = list(spans(since, until, exact=False))
    assert [p.weekly for p in parts] == [False, True, False]
    assert parts[0].lo == since and parts[-1].hi == until
    assert all(a.hi == b.lo for a, b in itertools.pairwise(parts))
    assert parts[1].lo == monday(since) + timedelta(days=7) and parts[1].hi == monday(until)
    aligned = list(spans(monday(since), monday(until), exact=False))
    assert [p.weekly for p in aligned] == [True]
    inside = list(spans(since, since + timedelta(days=2), exact=False))
    assert [p.weekly for p in inside] == [False]
    assert [p.weekly for p in spans(None, None, exact=False)] == [True]
    assert [p.weekly for p in spans(since, None, exact=True)] == [False]


def _expected(rows: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    return {
        "category": Counter(r["category"] for r in rows),
        "language": Counter(r["language"] for r in rows if r["language"]),
        "source": Counter(r["source"] for r in rows),
        "country": Counter(c for r in rows for c in {r["source_country"], *r["countries"]}),
    }


FIELD = {"category": "categories", "language": "languages", "source": "sources",
         "country": "countries"}  # fmt: skip


@pytest.mark.parametrize("case", range(12))
def test_facets_and_timeline_equal_counts_of_the_rows(engine: Engine, case: int) -> None:
    _seed(engine)
    rng = random.Random(case)
    since = START + timedelta(minutes=rng.randrange(3 * 7 * 24 * 60)) if case % 4 else None
    until = START + timedelta(days=35, minutes=rng.randrange(5 * 7 * 24 * 60)) if case % 3 else None
    f = SignalFilter(
        categories=tuple(rng.sample(CATEGORIES, rng.choice((0, 1, 2)))),
        countries=tuple(rng.sample(COUNTRIES, rng.choice((0, 1, 2)))),
        sources=tuple(f"src-{c}" for c in rng.sample(COUNTRIES, rng.choice((0, 0, 2)))),
        languages=tuple(rng.sample(("ru", "en"), rng.choice((0, 0, 1)))),
        since=since,
        until=until,
        min_score=0.4 if case % 5 == 0 else 0.0,
        text="законопроект OR biometric" if case % 6 == 1 else "",
    )
    with db.session_scope(engine) as s:
        rows = list(iter_signals(s, f))
        got = facet_counts(s, f)
        assert got.summary.total == len(rows) == summary(s, f).total
        if rows:
            assert got.summary.first == min(r["detected_at"] for r in rows)
            assert got.summary.last == max(r["detected_at"] for r in rows)
        for dimension, field in FIELD.items():
            others = list(iter_signals(s, replace(f, **{field: ()})))  # type: ignore[arg-type]
            assert dict(got.counts[dimension]) == _expected(others)[dimension], dimension
        by_week: Counter[tuple[str, str]] = Counter()
        by_country: Counter[tuple[str, str]] = Counter()
        for r in rows:
            week = monday(r["detected_at"]).date().isoformat()
            by_week[(week, r["category"])] += 1
            for c in {r["source_country"], *r["countries"]}:
                by_country[(week, c)] += 1
        for by, expected in (("category", by_week), ("country", by_country)):
            t = timeline(s, f, by)
            drawn = Counter({
                (w.isoformat(), k): n for k, counts in t.series
                for w, n in zip(t.weeks, counts, strict=True) if n
            })  # fmt: skip
            assert drawn == expected, by


def test_upgrading_a_store_with_signals_fills_the_new_columns_and_counts(engine: Engine) -> None:
    """Signals stored before migration 0007 get their source, mentions and combination, and
    the counts equal a GROUP BY of them; downgrading drops it all and keeps the signals."""
    _seed(engine, n=120)
    with engine.connect() as conn:
        before = conn.execute(
            select(m.Signal.id, m.Signal.source_id, m.Signal.mentions).order_by(m.Signal.id)
        ).all()
    db.downgrade(engine, "0006")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM signals").scalar() == 120
    db.upgrade(engine)
    with engine.connect() as conn:
        after = conn.execute(
            select(m.Signal.id, m.Signal.source_id, m.Signal.mentions).order_by(m.Signal.id)
        ).all()
    assert after == before
    kept, direct = _grouped(engine)
    assert kept == direct and sum(n for k, n in kept.items() if k[0] == "all") == 120
    with db.session_scope(engine) as s:  # the triggers work after the upgrade
        s.execute(delete(m.Signal).where(m.Signal.id <= 10))
    kept, direct = _grouped(engine)
    assert kept == direct and sum(n for k, n in kept.items() if k[0] == "all") == 110


def test_no_language_is_one_combination_on_both_engines(engine: Engine) -> None:
    _seed(engine, n=20)
    with db.session_scope(engine) as s:  # NULL and "" are the same combination: allowed
        changed = s.execute(update(m.Signal).where(m.Signal.lang.is_(None)).values(lang=""))
        assert changed.rowcount > 0  # type: ignore[attr-defined]
    kept, direct = _grouped(engine)
    assert kept == direct


def test_the_last_instant_of_a_week_stays_in_that_week(engine: Engine) -> None:
    """SQLite's date() rounds to the millisecond: the day is cut from the text first."""
    _seed(engine, n=3)
    sunday_night = datetime(2026, 8, 9, 23, 59, 59, 999_900, tzinfo=UTC)
    with db.session_scope(engine) as s:
        s.execute(update(m.Signal).values(detected_at=sunday_night))
    kept, direct = _grouped(engine)
    assert kept == direct
    assert {k[1] for k in kept if k[0] == "week"} == {"2026-08-03"}
    with db.session_scope(engine) as s:
        assert facet_counts(s, SignalFilter(since=monday(sunday_night))).summary.total == 3
        later = facet_counts(s, SignalFilter(since=monday(sunday_night) + timedelta(days=7)))
        assert later.summary.total == 0
        t = timeline(s, SignalFilter(), "category")
        assert t.weeks == (date(2026, 8, 3),)


def test_a_combination_added_after_the_request_began_is_read_then(engine: Engine) -> None:
    _seed(engine, n=3)
    with db.session_scope(engine) as s:
        dims = Dimensions.load(s)
    with db.session_scope(engine) as s:
        s.execute(update(m.Signal).values(detected_at=START))  # keeps the combinations
        new = m.combo_ids(s.connection(), [("content_control", "kk", 1, ",tm,")])
    (combo_id,) = new.values()
    assert combo_id not in dims.combos
    with db.session_scope(engine) as s:
        assert dims.combo(s, combo_id).category == "content_control"


def test_filter_codes_are_normalised_and_checked() -> None:
    assert SignalFilter(countries=("KZ", " uz "), languages=("RU",)).countries == ("kz", "uz")
    assert SignalFilter(languages=("RU",)).languages == ("ru",)
    for bad in ("k,z", "%", "k"):
        with pytest.raises(UsageError, match="use codes of letters"):
            SignalFilter(countries=(bad,))


def test_a_span_at_the_end_of_the_calendar_is_empty(engine: Engine) -> None:
    _seed(engine, n=3)
    far = datetime(9999, 12, 30, tzinfo=UTC)
    with db.session_scope(engine) as s:
        assert facet_counts(s, SignalFilter(since=far)).summary.total == 0
        assert timeline(s, SignalFilter(since=far)).weeks == ()
