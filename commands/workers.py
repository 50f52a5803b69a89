"""`regwatch worker` (N of them, any machine) and `regwatch scheduler` (one or more; one leads)
over a shared PostgreSQL database — see docs/workers.md. `regwatch run` stays the single
service for SQLite or one machine."""

from __future__ import annotations

import argparse

from sqlalchemy import Engine

from regwatch.commands.common import (
    load_settings,
    make_fetcher,
    make_flagger,
    make_outbox,
    open_engine,
)
from regwatch.config import Settings


def cmd_worker(args: argparse.Namespace) -> int:
    s = load_settings(args)
    engine = open_engine(s)
    try:
        return _work(args, s, engine)
    finally:
        engine.dispose()


def _work(args: argparse.Namespace, s: Settings, engine: Engine) -> int:
    import os

    from regwatch.metrics import Metrics
    from regwatch.store.hosts import SharedHostLimiter
    from regwatch.workers import WorkerContext, ensure_schema, make_app, require_postgres

    require_postgres(engine, "regwatch worker")
    created = ensure_schema(engine)
    if args.init:
        print("job queue tables " + ("created" if created else "already there"))
        return 0
    metrics = Metrics()
    if args.metrics_port:
        metrics.serve(s.service.metrics_host, args.metrics_port)
    limiter = SharedHostLimiter(engine, s.fetch.per_host_concurrency, s.fetch.per_host_delay)
    with make_fetcher(s, limiter=limiter) as fetcher:
        context = WorkerContext(
            settings=s,
            engine=engine,
            flagger=make_flagger(s.nlp),
            fetcher=fetcher,
            outbox=make_outbox(s, engine),
            metrics=metrics,
        )
        app = make_app(s.database.url)
        app.run_worker(
            concurrency=1,  # flagging is CPU bound: one job per process, a process per core
            name=f"pid={os.getpid()}",
            additional_context={"regwatch": context},
            update_heartbeat_interval=s.service.worker_heartbeat_seconds,
            stalled_worker_timeout=s.service.worker_stalled_seconds,
            listen_notify=True,
            fetch_job_polling_interval=5.0,
        )
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    import logging

    logging.getLogger("procrastinate.jobs").setLevel(logging.WARNING)  # a line per defer
    s = load_settings(args)
    engine = open_engine(s)
    try:
        return _schedule(s, engine)
    finally:
        engine.dispose()


def _schedule(s: Settings, engine: Engine) -> int:
    import asyncio

    from regwatch.enqueuer import Enqueuer
    from regwatch.errors import LockHeld
    from regwatch.metrics import Metrics
    from regwatch.workers import (
        ensure_schema,
        make_app,
        queue_health,
        require_postgres,
        sync_rows,
    )

    require_postgres(engine, "regwatch scheduler")
    running = service_running(engine)
    if running:  # `regwatch run` polls on its own schedule: both would poll everything
        raise LockHeld(
            f"regwatch scheduler: {running} is using this database; stop it first — a "
            "scheduler beside it would have every source polled twice"
        )
    ensure_schema(engine)
    sync_rows(engine, s)  # the rows the due rule reads
    if s.service.metrics_port:
        metrics = Metrics()
        stalled = s.service.worker_stalled_seconds
        metrics.watch_queue(lambda: queue_health(engine, stalled))
        metrics.serve(s.service.metrics_host, s.service.metrics_port)
    enqueuer = Enqueuer(
        engine,
        make_app(s.database.url),
        s.sources,
        tick=s.service.scheduler_tick_seconds,
        dispatch_every=s.service.dispatch_seconds,
        stalled_after=s.service.worker_stalled_seconds,
    )
    asyncio.run(enqueuer.run())
    return 0


def service_running(engine: Engine) -> str | None:
    """The holder of `regwatch run`'s lock on this PostgreSQL database (its application
    name, with its pid), if one runs — looked at, not taken, so schedulers starting together
    do not trip over each other."""
    from sqlalchemy import text

    from regwatch.store.lock import ADVISORY_KEY

    with engine.connect() as conn:
        name = conn.execute(
            text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.objid = :k "
                "AND l.objsubid = 1 AND l.granted LIMIT 1"
            ),
            {"k": ADVISORY_KEY},
        ).scalar()
        conn.rollback()
    return str(name) if name else None
