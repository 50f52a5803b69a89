"""An edited document's signals: the current version's are its signals, counted once
everywhere; an earlier version's are history, shown on the document page. Migration 0009
fixes stores that hold both side by side — on SQLite and PostgreSQL, up and down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select, text

from regwatch.alerts.report import digest_for
from regwatch.crawlers import Document
from regwatch.nlp import Flagger
from regwatch.pipeline import Outcome
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.analyst import SignalFilter, iter_signals
from regwatch.store.facets import facet_counts, signal_page
from regwatch.store.queries import counts
from regwatch.store.sources import SourceSpec, sync_sources
from regwatch.web.views import document_view
from tests.conftest import ingest_one

TEXT = (
    "Министерство опубликовало законопроект об искусственном интеллекте. "
    "Документ вводит понятие цифровой безопасности для регулирования ИИ."
)
URL = "https://gov.example/news/1"


def _digest_items(engine: Engine) -> int:
    return digest_for(engine, datetime.now(UTC) + timedelta(minutes=1), 24, 100).item_count


def _edited(engine: Engine, flagger: Flagger, digests: list[int] | None = None) -> tuple[int, int]:
    """A document, then its edit with the same matches: (document id, matches per version);
    the digest's item count before the edit in ``digests``."""
    with db.session_scope(engine) as s:
        sync_sources(s, [SourceSpec("s", "https://gov.example/rss", "rss", "kz", ("ru",), "news")])
    first = ingest_one(engine, flagger, Document(URL, "Новость", TEXT, "s"))
    if digests is not None:
        digests.append(_digest_items(engine))
    edit = ingest_one(engine, flagger, Document(URL, "Новость", TEXT + " Обновлено.", "s"))
    # The same findings in the edit: the same signals (ids, evidence and alerts kept), none
    # new — where the old code added a second copy of each.
    assert edit.outcome is Outcome.UPDATED and edit.signals_new == 0 < first.signals_new
    return first.document_id, first.signals_new


def _count(engine: Engine, table: str, column: str = "*") -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text(f"SELECT coalesce(sum({column}), 0) FROM {table}")) or 0)


def _ids(engine: Engine, table: str, column: str = "id") -> list[int]:
    with engine.connect() as conn:
        return list(conn.scalars(text(f"SELECT {column} FROM {table}")))


def _rows(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


def test_an_edited_document_counts_its_current_signals_once_everywhere(
    engine: Engine, flagger: Flagger
) -> None:
    digests: list[int] = []
    doc_id, n = _edited(engine, flagger, digests)
    everything = SignalFilter()
    with db.session_scope(engine) as s:
        assert counts(s)["signals"] == n
        assert len(list(iter_signals(s, everything))) == n  # exports
        assert len(signal_page(s, everything, "score", 0, 100)) == n  # the signal list
        assert facet_counts(s, everything).summary.total == n
        assert facet_counts(s, SignalFilter(text="безопасности")).summary.total == n  # search
        page = document_view(s, doc_id)
    assert _count(engine, "signal_combos", "n") == _count(engine, "signal_weekly", "n") == n
    assert _digest_items(engine) == digests[0] > 0  # the edit adds no digest items
    # The document page: each finding once, with its evidence from the version it was found
    # in; nothing went, so no history.
    assert page is not None and page.version == 2 and len(page.signals) == n
    assert {r["version"] for r in page.signals} == {1} and page.history == []


def test_a_page_changed_back_keeps_its_signals_and_their_history(
    engine: Engine, flagger: Flagger
) -> None:
    doc_id, n = _edited(engine, flagger)
    ids = set(_ids(engine, "signals"))
    back = ingest_one(engine, flagger, Document(URL, "Новость", TEXT, "s"))
    assert back.outcome is Outcome.UPDATED and back.signals_new == 0
    assert set(_ids(engine, "signals")) == ids and _rows(engine, "signal_history") == 0
    with db.session_scope(engine) as s:
        assert counts(s)["signals"] == n and s.get_one(m.Document, doc_id).version == 1
    assert _count(engine, "signal_combos", "n") == _count(engine, "signal_weekly", "n") == n


def test_an_edit_that_drops_a_finding_moves_it_to_history(engine: Engine, flagger: Flagger) -> None:
    doc_id, n = _edited(engine, flagger)
    changed = "Министерство опубликовало законопроект об искусственном интеллекте."
    edit = ingest_one(engine, flagger, Document(URL, "Новость", changed, "s"))
    now = len(flagger.flag("Новость", changed))
    assert edit.outcome is Outcome.UPDATED and edit.signals_new == 0 and 0 < now < n
    with db.session_scope(engine) as s:
        assert counts(s)["signals"] == now and facet_counts(s, SignalFilter()).summary.total == now
        page = document_view(s, doc_id)
    assert page is not None and len(page.signals) == now
    assert len(page.history) == n - now and {r["version"] for r in page.history} == {1}
    assert _count(engine, "signal_combos", "n") == _count(engine, "signal_weekly", "n") == now


def test_migration_0009_fixes_a_store_with_old_signals_beside_new_and_steps_down(
    engine: Engine, flagger: Flagger
) -> None:
    _, n = _edited(engine, flagger)
    db.downgrade(engine, "0008")  # the store as the old code left it: both versions' signals
    assert _rows(engine, "signals") == 2 * n
    with engine.begin() as conn:  # an alert sent for version 1's first finding
        old_id, rule, found = conn.execute(
            text(
                "SELECT s.id, s.rule, s.text FROM signals s JOIN document_versions v "
                "ON v.id = s.version_id WHERE v.version = 1 ORDER BY s.id LIMIT 1"
            )
        ).one()
        conn.execute(
            text(
                "INSERT INTO deliveries (subscription, channel, kind, signal_id, message_id, "
                "status, attempts, target, payload, created_at) VALUES ('team', 'email', "
                "'alert', :s, '<m1@x>', 'sent', 1, 't', 'p', CURRENT_TIMESTAMP)"
            ),
            {"s": old_id},
        )
    assert _count(engine, "signal_combos", "n") == _count(engine, "signal_weekly", "n") == 2 * n
    db.upgrade(engine)
    assert (_rows(engine, "signals"), _rows(engine, "signal_history")) == (n, n)
    with engine.connect() as conn:  # still on record, on version 2's signal of that finding
        moved = conn.execute(
            text(
                "SELECT v.version, s.rule, s.text FROM deliveries dl JOIN signals s "
                "ON s.id = dl.signal_id JOIN document_versions v ON v.id = s.version_id"
            )
        ).all()
    assert moved == [(2, rule, found)]
    assert _count(engine, "signal_combos", "n") == _count(engine, "signal_weekly", "n") == n
    with db.session_scope(engine) as s:
        current = s.scalar(select(m.DocumentVersion.id).where(m.DocumentVersion.version == 2))
        assert set(s.scalars(select(m.Signal.version_id))) == {current}
        assert s.scalar(select(func.count()).select_from(m.SignalHistory)) == n
        assert counts(s)["signals"] == n
