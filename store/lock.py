"""One `regwatch run` per database: a lock held for the life of the process and released by
the operating system or the server when it dies (SIGKILL included).

SQLite: an exclusive ``flock`` on ``<database>.lock`` beside the file, which also records the
holder's pid. PostgreSQL: a session-level advisory lock on a connection kept open, with the
holder's pid in its ``application_name``.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from pathlib import Path
from types import TracebackType
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from regwatch.errors import LockHeld

__all__ = ["InstanceLock", "RunHolder", "forget_run", "holder_gone"]

# A fixed key of our own in PostgreSQL's advisory lock space.
ADVISORY_KEY = zlib.crc32(b"regwatch run") & 0x7FFFFFFF


class InstanceLock:
    """``with InstanceLock(engine):`` — raises LockHeld when another process holds it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._file: IO[str] | None = None
        self._conn: Connection | None = None

    def __enter__(self) -> InstanceLock:
        if self.engine.dialect.name == "sqlite":
            self._lock_file()
        else:
            self._lock_server()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def _lock_file(self) -> None:
        database = make_url(self.engine.url).database
        if not database or database == ":memory:":
            return  # a private in-memory database cannot be shared
        path = Path(f"{database}.lock")
        handle = path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise LockHeld(
                f"store: another regwatch run (pid {holder}) is using {database}; stop it "
                "first — two services on one database would poll and send everything twice"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def _lock_server(self) -> None:
        conn = self.engine.connect()
        conn.execute(text("SELECT set_config('application_name', :n, false)"),
                     {"n": f"regwatch run pid={os.getpid()}"})  # fmt: skip
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
        conn.commit()
        if not got:
            holder = conn.execute(
                text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                    "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.objid = :k "
                    "AND l.granted LIMIT 1"
                ),
                {"k": ADVISORY_KEY},
            ).scalar()
            conn.close()
            raise LockHeld(
                f"store: another regwatch run ({holder or 'unknown'}) is using database "
                f"{self.engine.url.database}; stop it first — two services on one database "
                "would poll and send everything twice"
            )
        self._conn = conn

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
            self._conn.commit()
            self._conn.close()
            self._conn = None


# Runs: the process doing a collect or import run holds a lock named after the run's id for
# the run's life; the operating system or the server drops it when the process dies. A row
# still "running" whose lock nobody holds was interrupted (killed, or the machine went down).
RUN_KEY = zlib.crc32(b"regwatch runs") & 0x7FFFFFFF


class RunHolder:
    """Held while run ``run_id`` is in progress: a ``flock`` on ``<database>.run-<id>.lock``
    on SQLite, a session advisory lock (RUN_KEY, id) on its own connection on PostgreSQL."""

    def __init__(self, engine: Engine, run_id: int) -> None:
        self.engine = engine
        self.run_id = run_id
        self._file: IO[str] | None = None
        self._conn: Connection | None = None

    def acquire(self) -> RunHolder:
        if self.engine.dialect.name == "sqlite":
            path = _run_file(self.engine, self.run_id)
            if path is not None:
                handle = path.open("w", encoding="utf-8")
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                handle.write(str(os.getpid()))
                handle.flush()
                self._file = handle
        else:
            conn = self.engine.connect()
            conn.execute(text("SELECT pg_advisory_lock(:k, :id)"),
                         {"k": RUN_KEY, "id": self.run_id})  # fmt: skip
            conn.commit()
            self._conn = conn
        return self

    def release(self) -> None:
        if self._file is not None:
            path = Path(self._file.name)
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            path.unlink(missing_ok=True)
            self._file = None
        if self._conn is not None:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k, :id)"),
                               {"k": RUN_KEY, "id": self.run_id})  # fmt: skip
            self._conn.commit()
            self._conn.close()
            self._conn = None


def _run_file(engine: Engine, run_id: int) -> Path | None:
    database = make_url(engine.url).database
    if not database or database == ":memory:":
        return None
    return Path(f"{database}.run-{run_id}.lock")


def holder_gone(engine: Engine, run_id: int) -> bool:
    """Whether no live process holds run ``run_id`` (its row, if still running, is stale).
    Takes nothing it keeps: a read-only engine may ask."""
    if engine.dialect.name == "sqlite":
        path = _run_file(engine, run_id)
        if path is None:
            return False  # an in-memory database lives only as long as its one process
        try:
            handle = path.open("r", encoding="utf-8")
        except FileNotFoundError:
            return True
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(handle, fcntl.LOCK_UN)
            return True
    with engine.connect() as conn:
        got = conn.execute(
            text("SELECT pg_try_advisory_lock_shared(:k, :id)"), {"k": RUN_KEY, "id": run_id}
        ).scalar()
        if got:
            conn.execute(
                text("SELECT pg_advisory_unlock_shared(:k, :id)"), {"k": RUN_KEY, "id": run_id}
            )
        conn.rollback()
    return bool(got)


def forget_run(engine: Engine, run_id: int) -> None:
    """Remove what a dead holder left behind (the SQLite lock file)."""
    path = _run_file(engine, run_id) if engine.dialect.name == "sqlite" else None
    if path is not None:
        path.unlink(missing_ok=True)
