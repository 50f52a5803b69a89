"""Per-host politeness shared by every process on one PostgreSQL database (``regwatch
worker`` on any machine): the same contract as :class:`~regwatch.crawlers.politeness.HostLimiter`
— at most ``concurrency`` requests in flight per host, request starts at least ``delay``
seconds apart — but held in the database, so it holds across all workers together.

* Concurrency: a request holds one of ``concurrency`` session advisory locks
  ``(HOST_KEY + slot, hash(host))`` on a connection of its own for as long as it runs. The
  server drops the lock when the process dies (SIGKILL included), so a dead worker never
  keeps a slot.
* Delay: each start is reserved by one statement on ``host_slots`` — an upsert that moves
  the host's ``next_start_at`` to ``max(now, next_start_at) + delay`` and returns the start it
  reserved — on the database's clock, so the machines' clocks do not matter. The row lock
  orders concurrent reservations; a dead worker's reservation costs one unused slot.
"""

from __future__ import annotations

import contextlib
import time
import zlib
from collections.abc import Callable, Iterator

from sqlalchemy import Connection, Engine, text

__all__ = ["HOST_KEY", "SharedHostLimiter"]

HOST_KEY = zlib.crc32(b"regwatch host slots") & 0x3FFFFFFF  # room above it for 64 slots
RETRY_S = 0.05  # how often a request waiting for a concurrency slot asks again

_RESERVE = text(
    "INSERT INTO host_slots (host, next_start_at) "
    "VALUES (:host, clock_timestamp() + make_interval(secs => :delay)) "
    "ON CONFLICT (host) DO UPDATE SET next_start_at = "
    "greatest(host_slots.next_start_at, clock_timestamp()) + make_interval(secs => :delay) "
    "RETURNING extract(epoch FROM (next_start_at - make_interval(secs => :delay)) "
    "- clock_timestamp())"
)


def host_hash(host: str) -> int:
    """A signed 32-bit key for ``host`` (PostgreSQL's two-key advisory locks take int4)."""
    value = zlib.crc32(host.encode("utf-8"))
    return value - (1 << 32) if value >= (1 << 31) else value


class SharedHostLimiter:
    """``with limiter.slot(host):`` around each request, from any thread of any process."""

    def __init__(
        self,
        engine: Engine,
        concurrency: int = 2,
        delay: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("shared host slots need PostgreSQL")
        if not 1 <= concurrency <= 64:
            raise ValueError("concurrency must be within 1..64")
        self.engine = engine
        self.concurrency = concurrency
        self.delay = max(0.0, delay)
        self._sleep = sleep

    @contextlib.contextmanager
    def slot(self, host: str) -> Iterator[None]:
        host = host.lower()
        key = host_hash(host)
        conn = self.engine.connect()
        try:
            held = self._take_slot(conn, key)
            try:
                wait = self._reserve_start(conn, host)
                if wait > 0:
                    self._sleep(wait)
                yield
            finally:
                conn.execute(
                    text("SELECT pg_advisory_unlock(:k, :h)"), {"k": HOST_KEY + held, "h": key}
                )
                conn.commit()
        finally:
            conn.close()

    def _take_slot(self, conn: Connection, key: int) -> int:
        while True:
            for i in range(self.concurrency):
                got = conn.execute(
                    text("SELECT pg_try_advisory_lock(:k, :h)"), {"k": HOST_KEY + i, "h": key}
                ).scalar()
                conn.commit()
                if got:
                    return i
            self._sleep(RETRY_S)

    def _reserve_start(self, conn: Connection, host: str) -> float:
        wait = conn.execute(_RESERVE, {"host": host[:255], "delay": self.delay}).scalar()
        conn.commit()
        return float(wait or 0.0)
