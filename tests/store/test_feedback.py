"""Analysts' feedback on both engines: verdicts on signals and missed categories, precision
from them, and a verdict that survives an edit of the document which moves its signal to
``signal_history`` — still counted, still a training example."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from regwatch.crawlers import Document
from regwatch.errors import UsageError
from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.feedback import judge_signal, mark_missed, precision, training_texts
from regwatch.store.sources import SourceSpec, sync_sources
from tests.conftest import ingest_one

URL = "https://gov.example/news/1"
V1 = (
    "Министерство опубликовало законопроект об искусственном интеллекте. "
    "Документ вводит понятие цифровой безопасности для регулирования ИИ."
)
V2 = "Министерство сообщило о планах на следующий год по дорогам."


def test_feedback_survives_an_edit_and_counts(engine: Engine, flagger: Flagger) -> None:
    with db.session_scope(engine) as s:
        sync_sources(s, [SourceSpec("s", "https://gov.example/rss", "rss", "kz", ("ru",), "news")])
    doc_id = ingest_one(engine, flagger, Document(URL, "Новость", V1, "s")).document_id
    with db.session_scope(engine) as s:
        signals = s.scalars(select(m.Signal).where(m.Signal.document_id == doc_id)).all()
        assert len(signals) >= 2
        first, second = signals[0], signals[1]
        judge_signal(s, first.id, True, "on point")
        judge_signal(s, second.id, False)
        mark_missed(s, doc_id, "regional_cooperation", flagger.rules.categories)
        ids = (first.id, second.id, first.rule, second.rule, first.category, first.sentence)
    # the edit drops every match: the signals move to history; the verdicts stay
    ingest_one(engine, flagger, Document(URL, "Новость", V2, "s"))
    with db.session_scope(engine) as s:
        assert s.scalars(select(m.Signal).where(m.Signal.document_id == doc_id)).all() == []
        moved = {h.signal_id for h in s.scalars(select(m.SignalHistory))}
        assert {ids[0], ids[1]} <= moved
        rows = s.scalars(select(m.Feedback).order_by(m.Feedback.id)).all()
        assert [r.verdict for r in rows] == ["relevant", "not_relevant", "missed"]
        assert rows[0].sentence == ids[5] and rows[0].note == "on point"
        by_rule, by_category = precision(s)
        rules = {p.key: p for p in by_rule}
        if ids[2] != ids[3]:
            assert (rules[ids[2]].relevant, rules[ids[2]].precision) == (1, 1.0)
            assert (rules[ids[3]].not_relevant, rules[ids[3]].precision) == (1, 0.0)
        cats = {p.key: p for p in by_category}
        assert cats["regional_cooperation"].missed == 1
        assert sum(p.judged for p in by_category) == 2
        texts = training_texts(s)
        assert [t.labels for t in texts[:2]] == [frozenset({ids[4]}), frozenset()]
        assert texts[2].text == V2 and "regional_cooperation" in texts[2].labels
        # a verdict on a signal that is now history is still accepted
        judge_signal(s, ids[0], True)
        with pytest.raises(UsageError, match="no signal 999999"):
            judge_signal(s, 999999, True)
        with pytest.raises(UsageError, match="not a category"):
            mark_missed(s, doc_id, "nonsense", flagger.rules.categories)
