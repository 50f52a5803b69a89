"""``regwatch worker``: the jobs N processes on any machine take from one PostgreSQL queue
(Procrastinate: ``FOR UPDATE SKIP LOCKED``, queueing locks, heartbeats; docs/workers.md).

Three jobs, each idempotent by the keys the store already has, so an at-least-once queue
never stores or sends anything twice:

* ``regwatch.poll(source)`` — claim the source's poll (:func:`store.sources.claim_poll`, a
  conditional UPDATE: one poll per interval whoever holds a job for it), then the same
  collect → ``pipeline.ingest()`` path as ``regwatch run``; its requests wait for per-host
  slots shared through the database (:class:`store.hosts.SharedHostLimiter`).
* ``regwatch.dispatch()`` — one outbox cycle: queue due digests and new alerts, send what is
  due (claim by conditional UPDATE, stable Message-ID). Jobs carry the lock ``outbox``, so
  cycles run one at a time across all workers.
* ``regwatch.maintain()`` — nightly (a periodic task the engine defers once, whichever
  worker's deferrer gets there first): the store's maintenance and the queue's old jobs.

The engine's API is used here and in ``enqueuer.py`` only; ``status.py`` and the metrics read
the queue through :func:`queue_health`.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from regwatch.errors import StoreError
from regwatch.store import db
from regwatch.store.models import utcnow
from regwatch.store.sources import claim_poll, sync_sources

if TYPE_CHECKING:
    import procrastinate

    from regwatch.alerts.outbox import Outbox
    from regwatch.config import Settings
    from regwatch.crawlers import Fetcher
    from regwatch.metrics import Metrics
    from regwatch.nlp import Flagger

__all__ = [
    "DISPATCH",
    "MAINTAIN",
    "POLL",
    "QueueHealth",
    "WorkerContext",
    "conninfo",
    "delete_finished_jobs",
    "ensure_schema",
    "make_app",
    "queue_health",
    "require_postgres",
    "sync_rows",
]

log = logging.getLogger("regwatch.workers")

POLL, DISPATCH, MAINTAIN = "regwatch.poll", "regwatch.dispatch", "regwatch.maintain"
QUEUE = "regwatch"
SCHEMA_KEY = zlib.crc32(b"regwatch queue schema") & 0x7FFFFFFF
SYNC_KEY = zlib.crc32(b"regwatch source rows") & 0x7FFFFFFF


def require_postgres(engine: Engine, command: str) -> None:
    if engine.dialect.name != "postgresql":
        raise StoreError(
            f"{command}: workers share a PostgreSQL database (database.url is "
            f"{engine.dialect.name}); on SQLite run the single service, 'regwatch run'"
        )


def conninfo(url: str) -> str:
    """A libpq connection string for the engine's own connections, from the SQLAlchemy URL."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def ensure_schema(engine: Engine) -> bool:
    """Create the queue's tables (Procrastinate's schema, in the same database) unless they
    are there; True when they were created. Two processes starting at once: one creates, the
    other waits on the lock and finds them."""
    from procrastinate.schema import SchemaManager

    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_KEY})
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is not None:
            return False
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute(SchemaManager.get_schema())  # several statements: the simple protocol
    log.info("created the job queue's tables (procrastinate schema)")
    return True


def sync_rows(engine: Engine, settings: Settings) -> dict[str, int]:
    """The configured sources' rows, {name: id}; processes starting at once take turns."""
    from regwatch.pipeline.collect import source_spec

    with db.session_scope(engine) as session:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SYNC_KEY})
        return sync_sources(session, [source_spec(s) for s in settings.sources])


@dataclass
class WorkerContext:
    """What this worker process built once at start and every job uses."""

    settings: Settings
    engine: Engine
    flagger: Flagger
    fetcher: Fetcher
    outbox: Outbox
    metrics: Metrics | None = None
    source_ids: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.source_ids = sync_rows(self.engine, self.settings)

    def poll(self, name: str, app: procrastinate.App) -> dict[str, Any]:
        from regwatch.pipeline import collect_sources

        src = next((s for s in self.settings.sources if s.name == name), None)
        if src is None or not src.enabled or name not in self.source_ids:
            log.warning(
                "poll %s: not an enabled source in this worker's configuration; restart the "
                "worker after editing sources",
                name,
            )
            return {"source": name, "polled": False, "why": "unknown or disabled"}
        now = utcnow()
        with db.session_scope(self.engine) as session:
            mine = claim_poll(
                session, self.source_ids[name], timedelta(minutes=src.interval_minutes), now
            )
        if not mine:  # not due any more, or another worker took this interval's poll
            return {"source": name, "polled": False, "why": "not due"}
        summary = collect_sources(
            self.engine,
            self.flagger,
            self.fetcher,
            [src],
            max_wait=self.settings.fetch.max_wait_hours * 3600,
        )
        if self.metrics is not None:
            self.metrics.poll(name, summary, time.time())
        if summary.signals_new:  # strong signals go out now, not on the next tick
            defer_dispatch(app)
        log.info(
            "polled %s: %d items, %s",
            name,
            summary.items_seen,
            summary.counts_text(),
            extra={"source": name, "items": summary.items_seen, "worker": os.getpid()},
        )
        return {
            "source": name,
            "polled": True,
            "items": summary.items_seen,
            "new": summary.outcomes["new"],
            "error": summary.errors.get(name),
        }

    def dispatch(self) -> dict[str, Any]:
        report = self.outbox.dispatch()
        if self.metrics is not None:
            self.metrics.dispatch(report)
        return {"sent": report.sent, "retrying": report.retrying, "failed": report.failed}

    def maintain(self, app: procrastinate.App) -> None:
        db.maintain(self.engine)
        gone = delete_finished_jobs(self.engine, self.settings.service.keep_jobs_hours)
        log.info("maintenance: %d finished jobs older than %d h deleted", gone,
                 self.settings.service.keep_jobs_hours)  # fmt: skip


def delete_finished_jobs(engine: Engine, hours: float) -> int:
    """Delete the jobs that ended well (succeeded, cancelled, aborted) more than ``hours``
    ago, with their events; failed jobs stay for a person to look at. Returns how many."""
    with engine.begin() as conn:
        result = conn.execute(
            text(
                "DELETE FROM procrastinate_jobs WHERE status IN ('succeeded', 'cancelled', "
                "'aborted') AND id IN (SELECT job_id FROM procrastinate_events WHERE "
                "type IN ('succeeded', 'cancelled', 'aborted') "
                "AND at < now() - make_interval(secs => :s)) "
                "AND id NOT IN (SELECT job_id FROM procrastinate_periodic_defers "
                "WHERE job_id IS NOT NULL)"
            ),
            {"s": hours * 3600.0},
        )
        return int(result.rowcount)


def defer_dispatch(app: procrastinate.App) -> bool:
    """One outbox cycle, unless one is already waiting; False when one was."""
    from procrastinate.exceptions import AlreadyEnqueued

    try:
        app.configure_task(DISPATCH, queueing_lock="dispatch", lock="outbox").defer()
    except AlreadyEnqueued:
        return False
    return True


def make_app(url: str) -> procrastinate.App:
    """The engine's app over ``url``'s database, with regwatch's three tasks."""
    import procrastinate

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=conninfo(url), kwargs={"application_name": worker_name()}
        ),
        periodic_defaults={"max_delay": 6 * 3600},  # a nightly job missed by a short outage
    )

    @app.task(name=POLL, queue=QUEUE, pass_context=True)
    def poll(context: procrastinate.JobContext, source: str) -> dict[str, Any]:
        ctx: WorkerContext = context.additional_context["regwatch"]
        return ctx.poll(source, app)

    @app.task(name=DISPATCH, queue=QUEUE, pass_context=True)
    def dispatch(context: procrastinate.JobContext) -> dict[str, Any]:
        ctx: WorkerContext = context.additional_context["regwatch"]
        return ctx.dispatch()

    @app.periodic(cron="30 3 * * *", periodic_id="nightly")
    @app.task(name=MAINTAIN, queue=QUEUE, pass_context=True)
    def maintain(context: procrastinate.JobContext, timestamp: int) -> None:
        ctx: WorkerContext = context.additional_context["regwatch"]
        ctx.maintain(app)

    return app


def worker_name() -> str:
    return f"regwatch worker {socket.gethostname()} pid={os.getpid()}"


# ------------------------------------------------------------------ health, for status/metrics


@dataclass
class QueueHealth:
    """The queue as `regwatch status` and the metrics show it."""

    workers: list[dict[str, Any]] = field(default_factory=list)  # id, heartbeat age, job
    schedulers: list[str] = field(default_factory=list)  # leader first
    waiting: dict[str, int] = field(default_factory=dict)  # task -> jobs due and not started
    running: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    oldest_waiting_s: float | None = None  # age of the oldest job due and not started


def queue_health(engine: Engine, stalled_after: float = 30.0) -> QueueHealth | None:
    """None when this database has no queue (SQLite, or no worker ever started)."""
    if engine.dialect.name != "postgresql":
        return None
    from regwatch.enqueuer import LEADER_KEY

    out = QueueHealth()
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
            return None
        for task, status, n in conn.execute(
            text(
                "SELECT task_name, status::text, count(*) FROM procrastinate_jobs WHERE "
                "status IN ('todo', 'doing', 'failed') AND (status <> 'todo' OR "
                "scheduled_at IS NULL OR scheduled_at <= now()) GROUP BY 1, 2"
            )
        ):
            target = {"todo": out.waiting, "doing": out.running, "failed": out.failed}[status]
            target[task] = int(n)
        oldest = conn.execute(
            text(
                "SELECT extract(epoch FROM now() - min(coalesce(j.scheduled_at, e.at))) "
                "FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id "
                "AND e.type = 'deferred' WHERE j.status = 'todo' "
                "AND (j.scheduled_at IS NULL OR j.scheduled_at <= now())"
            )
        ).scalar()
        out.oldest_waiting_s = None if oldest is None else max(0.0, float(oldest))
        for wid, age, task in conn.execute(
            text(
                "SELECT w.id, extract(epoch FROM now() - w.last_heartbeat), "
                "string_agg(j.task_name || '(' || coalesce(j.args->>'source', '') || ')', ', ') "
                "FROM procrastinate_workers w LEFT JOIN procrastinate_jobs j "
                "ON j.worker_id = w.id AND j.status = 'doing' GROUP BY w.id ORDER BY w.id"
            )
        ):
            out.workers.append(
                {
                    "id": int(wid),
                    "heartbeat_age_s": round(float(age), 1),
                    "alive": float(age) < stalled_after,
                    "running": task or "",
                }
            )
        out.schedulers = [
            f"{name} ({'leader' if leads else 'standby'})"
            for name, leads in conn.execute(
                text(
                    "SELECT a.application_name, EXISTS (SELECT 1 FROM pg_locks l WHERE "
                    "l.pid = a.pid AND l.locktype = 'advisory' AND l.objid = :k "
                    "AND l.objsubid = 1 AND l.granted) AS leads FROM pg_stat_activity a "
                    "WHERE a.application_name LIKE 'regwatch scheduler%' "
                    "ORDER BY leads DESC, a.application_name"
                ),
                {"k": LEADER_KEY},
            )
        ]
        conn.rollback()
    return out
