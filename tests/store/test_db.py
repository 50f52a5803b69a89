from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError

from regwatch.errors import StoreError
from regwatch.store import db
from regwatch.store.fulltext import INDEX_TABLE
from regwatch.store.models import Base, Document, Source

TABLES = {"sources", "documents", "document_versions", "signals", "deliveries", "runs"}


def _context(conn: object) -> MigrationContext:
    """Compare with the models, leaving out the full-text index (engine-specific DDL)."""

    def include_name(name: str | None, type_: str, parent: object) -> bool:
        return not (type_ == "table" and (name or "").startswith(INDEX_TABLE))

    return MigrationContext.configure(conn, opts={"include_name": include_name})  # type: ignore[arg-type]


def test_migration_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(_context(conn), Base.metadata)
    assert diff == []
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_upgrade_is_idempotent_and_downgrade_drops_everything(engine: Engine) -> None:
    db.upgrade(engine)  # second time: nothing to do
    db.downgrade(engine, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    db.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_signals_table_has_the_analyst_columns(engine: Engine) -> None:
    cols = {c["name"] for c in inspect(engine).get_columns("signals")}
    assert {"category", "rule", "text", "score", "document_id", "sentence", "start", "end"} <= cols


def _source(name: str = "s") -> Source:
    return Source(
        name=name,
        url="https://s.example/rss",
        type="rss",
        country="kz",
        languages=["ru"],
        tier="news",
    )


def test_timestamps_round_trip_as_utc(engine: Engine) -> None:
    almaty = timezone(timedelta(hours=5))
    with db.session_scope(engine) as s:
        src = _source()
        s.add(src)
        s.flush()
        s.add(
            Document(
                source_id=src.id,
                url="u",
                canonical_url="u",
                title="t",
                content_hash="h",
                published_at=datetime(2026, 11, 17, 9, 30, tzinfo=almaty),
            )
        )
    with db.session_scope(engine) as s:
        doc = s.scalars(select(Document)).one()
        assert doc.published_at == datetime(2026, 11, 17, 4, 30, tzinfo=UTC)
        assert doc.published_at is not None and doc.published_at.tzinfo is not None
        assert doc.first_seen_at.tzinfo is not None


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    src = _source()
    src.last_success_at = datetime(2026, 1, 1)
    with pytest.raises(Exception, match="naive datetime"), db.session_scope(engine) as s:
        s.add(src)


def test_unique_canonical_url(engine: Engine) -> None:
    with db.session_scope(engine) as s:
        src = _source()
        s.add(src)
        s.flush()
        sid = src.id
        s.add(Document(source_id=sid, url="u", canonical_url="u", title="t", content_hash="h"))
    with pytest.raises(IntegrityError), db.session_scope(engine) as s:
        s.add(Document(source_id=sid, url="u", canonical_url="u", title="t2", content_hash="h2"))


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert (conn.execute(text("PRAGMA busy_timeout")).scalar() or 0) >= 5000
    engine.dispose()


def test_concurrent_read_then_write_transactions_do_not_fail(tmp_path: Path) -> None:
    """Two writers doing read-then-write transactions at once: with BEGIN IMMEDIATE the
    second waits for the lock instead of failing with "database is locked"."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engines = [db.make_engine(url), db.make_engine(url)]
    db.upgrade(engines[0])
    errors: list[BaseException] = []

    def writer(engine: Engine, prefix: str) -> None:
        try:
            for i in range(25):
                with db.session_scope(engine) as s:
                    n = len(s.scalars(select(Source)).all())  # read first …
                    s.add(_source(f"{prefix}-{i}-{n}"))  # … then write
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(e, p)) for e, p in zip(engines, "ab", strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with db.session_scope(engines[0]) as s:
        assert len(s.scalars(select(Source)).all()) == 50
    for e in engines:
        e.dispose()


def test_missing_sqlite_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        db.make_engine(f"sqlite:///{tmp_path / 'nope' / 'x.db'}")


def test_unreachable_server_is_a_store_error() -> None:
    engine = db.make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")
    with pytest.raises(StoreError, match="server is running"):
        db.upgrade(engine)


def test_upgrade_with_a_url_encoded_password(db_url: str) -> None:
    """A password with special characters is URL-encoded ("%3A"); Alembic's ConfigParser
    must never see it (it would read "%" as interpolation)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite URLs carry no password")
    user_part, rest = db_url.split("://", 1)[1].split("@", 1)
    url = f"postgresql+psycopg://{user_part}:s3cr%3At@{rest}"  # trust auth ignores it
    engine = db.make_engine(url)
    db.upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_sqlite_foreign_keys_are_on_again_after_migrating(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'fk.db'}")
    db.upgrade(engine)
    db.downgrade(engine, "base")
    db.upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_each_migration_steps_down_and_up_again(engine: Engine) -> None:
    """Walk the chain down one revision at a time, then back up: every downgrade works."""
    for revision in ("0004", "0003", "0002", "0001", "base"):
        db.downgrade(engine, revision)
    for revision in ("0001", "0002", "0003", "0004", "0005"):
        db.upgrade(engine, revision)
    db.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(_context(conn), Base.metadata)
    assert diff == []


def test_0004_downgrade_keeps_sources_and_drops_the_politeness_columns(engine: Engine) -> None:
    politeness = {"etag", "last_modified", "fresh_until", "next_retry_at"}
    with db.session_scope(engine) as s:
        src = _source("polite")
        src.etag, src.next_retry_at = '"e1"', datetime(2026, 11, 27, tzinfo=UTC)
        s.add(src)
    db.downgrade(engine, "0003")
    cols = {c["name"] for c in inspect(engine).get_columns("sources")}
    assert not politeness & cols and "consecutive_failures" in cols
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM sources")).scalars().all() == ["polite"]
    db.upgrade(engine)
    with db.session_scope(engine) as s:
        row = s.scalars(select(Source)).one()
        assert (row.name, row.etag, row.next_retry_at) == ("polite", None, None)


def test_maintenance_runs_on_both_engines(engine: Engine) -> None:
    db.maintain(engine)
    db.maintain(engine)  # and again: nothing left open


def test_0008_adds_the_skipped_count_to_existing_sources_and_steps_down(engine: Engine) -> None:
    db.downgrade(engine, "0007")
    assert "skipped_last_run" not in {c["name"] for c in inspect(engine).get_columns("sources")}
    with engine.begin() as conn:  # a row written before the migration
        conn.execute(
            text(
                "INSERT INTO sources (name, url, type, country, languages, tier, created_at, "
                "consecutive_failures, items_last_run) VALUES ('old', 'https://s.example/rss', "
                "'rss', 'kz', '[\"ru\"]', 'news', CURRENT_TIMESTAMP, 0, 4)"
            )
        )
    db.upgrade(engine)
    with db.session_scope(engine) as s:
        row = s.scalars(select(Source)).one()
        assert (row.name, row.items_last_run, row.skipped_last_run) == ("old", 4, 0)
        row.skipped_last_run = 7
    with db.session_scope(engine) as s:
        assert s.scalars(select(Source)).one().skipped_last_run == 7
