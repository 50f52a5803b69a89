"""Engine and session setup, and schema upgrades through Alembic.

SQLite gets WAL, a 5 s busy timeout and foreign keys; write engines open every transaction
with ``BEGIN IMMEDIATE`` (a read-then-write transaction that starts deferred fails with
"database is locked" at once, whatever the busy timeout) — except a connection marked
``execution_options(deferred=True)``, which only reads (the schema check). Read commands use
a ``readonly`` engine: a deferred ``BEGIN`` reads one WAL snapshot and never takes the write
lock, so an export however long does not hold up ingest. A lock held past the busy timeout
becomes a :class:`StoreError` saying so (:func:`session_scope`).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from regwatch.errors import StoreError

__all__ = [
    "BUSY_TIMEOUT_MS",
    "is_locked",
    "locked_message",
    "maintain",
    "make_engine",
    "session_scope",
    "upgrade",
    "write_lock",
]

BUSY_TIMEOUT_MS = 5000
MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, *, readonly: bool = False) -> Engine:
    """Create an engine; SQLite connections are configured on connect. A ``readonly`` engine
    cannot write: SQLite's ``query_only`` pragma, PostgreSQL's read-only transactions."""
    try:
        parsed = make_url(url)
    except SQLAlchemyError as exc:
        raise StoreError(f"store: database URL {url!r} is not valid ({exc})") from None
    if parsed.get_backend_name() != "sqlite":
        if readonly:
            # One snapshot per transaction: a page's counts read in several statements agree.
            options = (
                "-c default_transaction_read_only=on "
                "-c default_transaction_isolation=repeatable\\ read"
            )
            return create_engine(url, pool_pre_ping=True, connect_args={"options": options})
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        if not folder.is_dir():
            raise StoreError(f"store: folder {folder} for the SQLite database does not exist")
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        if parsed.database and parsed.database != ":memory:":
            # Switching needs a lock; asking does not — so switch only once per database.
            if str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        if readonly:
            cur.execute("PRAGMA query_only = ON")
        cur.close()

    begin = "BEGIN" if readonly else "BEGIN IMMEDIATE"

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("deferred") else begin)

    return engine


MIGRATE_KEY = zlib.crc32(b"regwatch migrations") & 0x7FFFFFFF


def _migrate(engine: Engine, action: Callable[[AlembicConfig, str], None], revision: str) -> None:
    """Run an Alembic command on one connection of ``engine``.

    The URL is not put in Alembic's config (ConfigParser would read a URL-encoded password's
    ``%`` as interpolation); env.py uses the connection handed over. On SQLite, foreign keys are
    switched off for the migration — batch mode recreates tables, and a dropped parent would
    cascade-delete its children — and checked before commit.
    """
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:  # before BEGIN: the pragma is a no-op inside a transaction
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                if not sqlite:  # processes starting at once on a new database take turns
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATE_KEY})
                cfg.attributes["connection"] = conn
                action(cfg, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise StoreError(f"store: migration left broken references: {broken[:5]}")
        finally:
            if sqlite:
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]


def _at_revision(engine: Engine, revision: str) -> bool:
    """Whether the schema is at ``revision`` already — read without any write lock."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    wanted = set(ScriptDirectory.from_config(cfg).get_revisions(revision))
    with engine.connect().execution_options(deferred=True) as conn, conn.begin():
        current = set(MigrationContext.configure(conn).get_current_heads())
    return {r.revision for r in wanted if r is not None} == current


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent; runs on every start). When the schema is
    current already nothing is written: read commands beside a busy writer start at once."""
    try:
        if _at_revision(engine, revision):
            return
        _migrate(engine, command.upgrade, revision)
    except SQLAlchemyError as exc:
        if is_locked(exc):
            raise StoreError(locked_message(engine, "upgrading the schema")) from None
        raise StoreError(
            f"store: cannot upgrade {engine.url.render_as_string()}: {exc.__class__.__name__}: "
            f"{exc}; check the database URL and that the server is running"
        ) from None


def is_locked(exc: BaseException) -> bool:
    """SQLite's "database is locked" (another writer held the lock past the busy timeout)."""
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


def locked_message(engine: Engine, doing: str) -> str:
    return (
        f"store: {doing}: the SQLite database {engine.url.database} stayed locked by another "
        f"writer for more than the {BUSY_TIMEOUT_MS / 1000:g} s busy timeout (a `regwatch run`, "
        "`collect` or `import` holds the lock while it writes); what was not stored is fetched "
        "again on the next poll, or run the command again when the other one is done"
    )


def maintain(engine: Engine) -> None:
    """Daily upkeep: fresh planner statistics; on SQLite also a WAL checkpoint, on
    PostgreSQL also a VACUUM."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # outside any transaction: a checkpoint needs that
        try:
            raw.driver_connection.execute("PRAGMA optimize")  # type: ignore[union-attr]
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()
        return
    # VACUUM marks pages all-visible, so the covering indexes answer without the table.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")


def downgrade(engine: Engine, revision: str) -> None:
    _migrate(engine, command.downgrade, revision)


# A key of our own in PostgreSQL's advisory lock space (store.lock uses another).
WRITE_KEY = 0x72657777  # "rewW"


def write_lock(session: Session) -> None:
    """Make this transaction the only one storing documents until it ends. SQLite's
    ``BEGIN IMMEDIATE`` does this already; on PostgreSQL writers would otherwise take row
    locks on the same counter rows (signal_combos, signal_weekly) in different orders and
    could deadlock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_KEY})


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error. A lock held by another
    writer past the busy timeout raises StoreError (the caller records it and goes on)."""
    factory = sessionmaker(engine, expire_on_commit=False)
    try:
        with factory() as session, session.begin():
            yield session
    except OperationalError as exc:
        if is_locked(exc):
            raise StoreError(locked_message(engine, "writing")) from exc
        raise
