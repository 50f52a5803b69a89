"""Facet counts and the weekly timeline (store/facets.py) agree with the rows the analyst
filter returns, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from sqlalchemy import Engine

from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store.analyst import SignalFilter, iter_signals
from regwatch.store.facets import facet_counts, signal_page, timeline
from tests.store.test_analyst import _seed

KEYS = {"category": "category", "source": "source", "language": "language"}


def test_facets_and_timeline_agree_with_the_rows(engine: Engine, flagger: Flagger) -> None:
    _seed(engine, flagger)
    with db.session_scope(engine) as s:
        for f in (SignalFilter(), SignalFilter(text="Dushanbe OR безопасность"),
                  SignalFilter(countries=("tj", "kz"))):  # fmt: skip
            rows = list(iter_signals(s, f))
            fc = facet_counts(s, replace(f, countries=()))
            assert fc.summary.total == len(list(iter_signals(s, replace(f, countries=()))))
            got = facet_counts(s, f)
            assert got.summary.total == len(rows)
            if not f.countries:
                for dimension, column in KEYS.items():
                    assert dict(got.counts[dimension]) == Counter(r[column] for r in rows)
                concerns = Counter(c for r in rows for c in {r["source_country"], *r["countries"]})
                assert dict(got.counts["country"]) == concerns
                t = timeline(s, f, "country")
                assert {k: sum(c) for k, c in t.series} == concerns
                by_cat = timeline(s, f, "category")
                assert {k: sum(c) for k, c in by_cat.series} == Counter(r["category"] for r in rows)
                assert all(w.weekday() == 0 for w in t.weeks)
                assert t.weeks == tuple(sorted(t.weeks))
            page = signal_page(s, f, "score", 1, 2)
            assert [p["signal_id"] for p in page] == [r["signal_id"] for r in rows[1:3]]
        assert timeline(s, SignalFilter(text="nothingmatcheshere")).weeks == ()
