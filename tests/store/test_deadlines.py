"""The calendar's entries on SQLite and PostgreSQL: a consultation's last day and each dated
stage, with UIDs that survive a moved deadline and a merge; contradicting claims and undated
stages are no entries."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from regwatch.instruments.vocabulary import Stage
from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store.deadlines import calendar_entries
from regwatch.store.instrument_links import merge
from regwatch.store.instrument_models import Instrument
from regwatch.store.models import utcnow
from tests.alerts.conftest import seed
from tests.instrument_seed import link, stage


def test_entries_are_dated_stable_and_follow_merges(engine: Engine, flagger: Flagger) -> None:
    seeded = seed(engine, flagger)
    today = utcnow().date()
    kz, tj, uz = (seeded.doc_ids[k] for k in ("kz", "tj", "uz"))
    a = link(
        engine,
        kz,
        stages=(stage(Stage.PUBLIC_DISCUSSION, today - timedelta(days=3)),),
        consultation_end=today + timedelta(days=5),
    )
    link(engine, tj, instrument_id=a, stages=(stage(Stage.DRAFTED, None, "undated", "text"),))
    b = link(  # the same draft seen apart, then merged in by an analyst
        engine,
        uz,
        portal="regulation.gov.uz",
        portal_id="d/1",
        title="Another title of the same draft",
        stages=(stage(Stage.FIRST_READING, today - timedelta(days=1)),),
    )
    with db.session_scope(engine) as s:
        before = {e.uid: e.day for e in calendar_entries(s)}
        merge(s, a, b)
    with db.session_scope(engine) as s:
        entries = calendar_entries(s)
        assert [(e.kind, e.instrument.id, e.day) for e in entries] == [
            ("stage", a, today - timedelta(days=3)),
            ("stage", a, today - timedelta(days=1)),  # b's event, now under a
            ("consultation", a, today + timedelta(days=5)),
        ]
        after = {e.uid: e.day for e in entries}
        # every stage event keeps its UID through the merge; b had no deadline of its own
        assert {u for u in before if "stage" in u} == {u for u in after if "stage" in u}
        assert calendar_entries(s, since=today) == [entries[-1]]
        assert calendar_entries(s, country="uz") == []
        assert len(calendar_entries(s, keep=lambda i: i.id == a)) == 3
        # the deadline is extended: the same event (UID) on its new day
        s.get_one(Instrument, a).consultation_end = today + timedelta(days=12)
    with db.session_scope(engine) as s:
        [moved] = [e for e in calendar_entries(s) if e.kind == "consultation"]
        assert moved.uid == entries[-1].uid and moved.day == today + timedelta(days=12)
