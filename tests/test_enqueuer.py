"""The scheduler's leader and its ticks, against real PostgreSQL and the engine's real tables:
one of two schedulers leads, a second tick enqueues nothing twice, a standby takes over when
the leader's connection goes, and a dead worker's job is queued again."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine, text

from regwatch.config import SourceConfig
from regwatch.enqueuer import Enqueuer, due_names
from regwatch.store import db
from regwatch.store.models import utcnow
from regwatch.store.sources import SourceSpec, sync_sources
from regwatch.workers import ensure_schema, make_app

pytestmark = pytest.mark.postgres

SOURCES = [
    SourceConfig(name=f"s{i}", url=f"https://h{i}.example/rss", country="kz", interval_minutes=1)
    for i in range(3)
]


def _prepare(engine: Engine) -> None:
    assert ensure_schema(engine)
    assert not ensure_schema(engine)  # the second time: there already
    with db.session_scope(engine) as s:
        sync_sources(s, [SourceSpec(x.name, x.url, "rss", "kz", ("ru",), "news") for x in SOURCES])


def _jobs(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return sorted(
            (t, st, a or "")
            for t, st, a in conn.execute(
                text("SELECT task_name, status::text, args->>'source' FROM procrastinate_jobs")
            )
        )


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_one_leader_and_nothing_enqueued_twice(engine: Engine, db_url: str) -> None:
    _prepare(engine)

    async def scenario() -> None:
        first = Enqueuer(engine, make_app(db_url), SOURCES, dispatch_every=3600)
        second = Enqueuer(engine, make_app(db_url), SOURCES, dispatch_every=3600)
        async with first.app.open_async(), second.app.open_async():
            assert await first.tick() == 4  # three polls and one outbox cycle
            assert await second.tick() == 0  # a standby enqueues nothing
            assert first.leading and not second.leading
            assert await first.tick() == 0  # all still waiting: nothing twice
            await asyncio.to_thread(first._drop)  # the leader's connection goes (it died)
            assert await second.tick() == 0  # takes over; the waiting jobs stay as they are
            assert second.leading
            await asyncio.to_thread(second._drop)

    asyncio.run(scenario())
    assert _jobs(engine) == [
        ("regwatch.dispatch", "todo", ""),
        ("regwatch.poll", "todo", "s0"),
        ("regwatch.poll", "todo", "s1"),
        ("regwatch.poll", "todo", "s2"),
    ]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_dead_workers_job_is_queued_again(engine: Engine, db_url: str) -> None:
    _prepare(engine)

    async def scenario() -> None:
        enq = Enqueuer(engine, make_app(db_url), SOURCES[:1], stalled_after=1.0)
        async with enq.app.open_async():
            await enq.tick()
            # a worker takes the poll and dies: its heartbeat stops (we date it back)
            worker = await enq.app.job_manager.register_worker()
            job = await enq.app.job_manager.fetch_job(queues=None, worker_id=worker)
            assert job is not None and job.task_name == "regwatch.poll"
            with engine.begin() as conn:
                conn.execute(
                    text(
                        "UPDATE procrastinate_workers SET last_heartbeat = now() - "
                        "interval '1 minute'"
                    )
                )
            await enq.tick()
            await asyncio.to_thread(enq._drop)

    asyncio.run(scenario())
    assert ("regwatch.poll", "todo", "s0") in _jobs(engine)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_due_names_follow_the_one_rule(engine: Engine) -> None:
    _prepare(engine)
    now = utcnow()
    assert due_names(engine, SOURCES, now) == ["s0", "s1", "s2"]
    with engine.begin() as conn:
        conn.execute(text("UPDATE sources SET last_attempt_at = :t WHERE name = 's0'"), {"t": now})
        conn.execute(  # Retry-After / back-off on the row
            text("UPDATE sources SET next_retry_at = :t WHERE name = 's1'"),
            {"t": now.replace(year=now.year + 1)},
        )
    assert due_names(engine, SOURCES, now) == ["s2"]
    disabled = [SOURCES[0], SOURCES[1], SourceConfig(name="s2", url=SOURCES[2].url, enabled=False)]
    assert due_names(engine, disabled, now) == []
