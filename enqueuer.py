"""``regwatch scheduler``: puts due work in the queue the workers take from (docs/workers.md).

Run one or several (on different machines, for failover). Exactly one leads: the one holding
a session advisory lock on a connection it keeps open; the server drops the lock when that
process dies, and a standby that asks on its next tick takes over — so polls go on within one
tick. Should two ever both enqueue, nothing doubles anyway: a poll job carries the queueing
lock ``poll:<source>`` (at most one waiting per source), a dispatch the queueing lock
``dispatch``, and the worker's :func:`~regwatch.store.sources.claim_poll` lets one poll per
interval through.

Each tick the leader: enqueues every source that is due by the one rule (its interval since
the last attempt, the server's freshness, Retry-After or our back-off — all on the source's
row), enqueues an outbox cycle every ``dispatch_seconds``, and puts back in the queue the
jobs of workers that stopped sending heartbeats (killed, machine gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, select, text

from regwatch.config import SourceConfig
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.models import utcnow
from regwatch.store.sources import poll_state
from regwatch.workers import DISPATCH, POLL

if TYPE_CHECKING:
    import procrastinate

__all__ = ["LEADER_KEY", "Enqueuer", "due_names"]

log = logging.getLogger("regwatch.scheduler")

LEADER_KEY = zlib.crc32(b"regwatch scheduler leader") & 0x7FFFFFFF


def due_names(engine: Engine, sources: Sequence[SourceConfig], now: datetime) -> list[str]:
    """The enabled sources due now by the one rule, and not already waiting in the queue."""
    with db.session_scope(engine) as session:
        rows = {r.name: r for r in session.scalars(select(m.Source))}
        waiting = set(
            session.execute(
                text(
                    "SELECT queueing_lock FROM procrastinate_jobs WHERE status = 'todo' "
                    "AND queueing_lock LIKE 'poll:%'"
                )
            ).scalars()
        )
    return [
        s.name
        for s in sources
        if s.enabled
        and f"poll:{s.name}" not in waiting
        and poll_state(rows.get(s.name)).due(now, timedelta(minutes=s.interval_minutes))
    ]


class Enqueuer:
    """The scheduler loop; :meth:`run` returns after :meth:`stop`, SIGTERM or SIGINT."""

    def __init__(
        self,
        engine: Engine,
        app: procrastinate.App,
        sources: Sequence[SourceConfig],
        *,
        tick: float = 5.0,
        dispatch_every: float = 60.0,
        stalled_after: float = 30.0,
    ) -> None:
        self.engine = engine
        self.app = app
        self.sources = list(sources)
        self.tick_s = tick
        self.dispatch_every = dispatch_every
        self.stalled_after = stalled_after
        self.name = f"regwatch scheduler {socket.gethostname()} pid={os.getpid()}"
        self.leading = False
        self.enqueued = 0
        self._conn: Connection | None = None
        self._next_dispatch = 0.0
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    # ------------------------------------------------------------------ leadership

    def _lead(self) -> bool:
        """Whether this process leads now: it keeps the lock while its connection lives;
        without it, it asks (never waits) — a standby asks again next tick."""
        try:
            if self._conn is None:
                self._conn = self.engine.connect()
                self._conn.execute(
                    text("SELECT set_config('application_name', :n, false)"), {"n": self.name}
                )
                self._conn.commit()
            if self.leading:
                self._conn.execute(text("SELECT 1")).scalar()  # still connected: still held
                self._conn.commit()
                return True
            got = self._conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_KEY}
            ).scalar()
            self._conn.commit()
        except Exception as exc:  # the connection dropped: so did the lock
            log.warning("scheduler: lost the database connection (%s); asking again", exc)
            self._drop()
            return False
        if got and not self.leading:
            log.info("%s leads: enqueuing due polls and outbox cycles", self.name)
        self.leading = bool(got)
        return self.leading

    def _drop(self) -> None:
        self.leading = False
        if self._conn is not None:
            with contextlib.suppress(Exception):
                # closed for real, not handed back to the pool still holding the lock
                self._conn.invalidate()
                self._conn.close()
            self._conn = None

    # ------------------------------------------------------------------ one tick

    async def tick(self) -> int:
        """As leader, enqueue what is due now; return how many jobs it enqueued."""
        from procrastinate.exceptions import AlreadyEnqueued

        if not await asyncio.to_thread(self._lead):
            return 0
        now = utcnow()
        names = await asyncio.to_thread(due_names, self.engine, self.sources, now)
        n = 0
        for name in names:
            try:
                await self.app.configure_task(POLL, queueing_lock=f"poll:{name}").defer_async(
                    source=name
                )
                n += 1
            except AlreadyEnqueued:
                pass
        loop = asyncio.get_running_loop()
        if loop.time() >= self._next_dispatch:
            self._next_dispatch = loop.time() + self.dispatch_every
            try:
                await self.app.configure_task(
                    DISPATCH, queueing_lock="dispatch", lock="outbox"
                ).defer_async()
                n += 1
            except AlreadyEnqueued:
                pass
        for job in await self.app.job_manager.get_stalled_jobs(
            seconds_since_heartbeat=self.stalled_after
        ):
            log.warning(
                "job %s (%s %s) was running on a worker that stopped answering; queued again",
                job.id,
                job.task_name,
                job.task_kwargs,
            )
            try:
                await self.app.job_manager.retry_job(job)
            except Exception:  # a newer job for the same work is waiting: that one runs
                from procrastinate.jobs import Status

                await self.app.job_manager.finish_job(job, Status.ABORTED, delete_job=False)
        self.enqueued += n
        return n

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop)
        log.info("%s started: %d sources", self.name, len(self.sources))
        try:
            async with self.app.open_async():
                while not self._stopping.is_set():
                    try:
                        await self.tick()
                    except Exception:
                        log.exception("scheduler tick failed; trying again next tick")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), self.tick_s)
        finally:
            await asyncio.to_thread(self._drop)
            log.info("%s stopped after enqueuing %d jobs", self.name, self.enqueued)
