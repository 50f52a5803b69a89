"""The long-running service: APScheduler jobs that poll each source at its interval.

Only this module, ``config`` and ``cli.py`` see the whole configuration: jobs get plain
values. Polls run one at a time on a single worker thread (the spaCy pipeline is not shared
across threads), so the event loop stays free for the scheduler and for signals. A poll of an
html/sitemap source runs its Scrapy crawl on a loop of its own in that thread
(AsyncCrawlerRunner, no Twisted reactor), so crawls repeat for as long as the service lives;
``on_stop`` (``crawlers.crawl.stop_crawls``) closes a running one at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from regwatch.config import SourceConfig, SubscriptionConfig
from regwatch.pipeline import RunSummary

__all__ = ["DigestTime", "Poll", "Service", "SourceJob", "digest_times", "jobs_for"]

log = logging.getLogger("regwatch.scheduler")

Poll = Callable[[SourceConfig], RunSummary]
Dispatch = Callable[[], object]  # one outbox cycle
# New jobs when the configuration changed (or at once with force=True, on SIGHUP); None when
# nothing changed. May raise: the service logs it and keeps the jobs it has.
Reload = Callable[[bool], Sequence["SourceJob"] | None]
WATCH_EVERY_S = 5.0
FIRST_POLL_SPREAD_S = 5.0
DISPATCH_EVERY_S = 60.0


@dataclass(frozen=True)
class DigestTime:
    subscription: str
    hour: int
    minute: int
    timezone: str


@dataclass(frozen=True)
class SourceJob:
    source: SourceConfig
    interval: timedelta
    jitter: timedelta = timedelta(0)


class Service:
    """Schedules one job per source; :meth:`run` blocks until :meth:`stop` or SIGTERM/SIGINT."""

    def __init__(
        self,
        jobs: Sequence[SourceJob],
        poll: Poll,
        dispatch: Dispatch | None = None,
        dispatch_every: float = DISPATCH_EVERY_S,
        on_stop: Callable[[], Awaitable[object]] | None = None,
        reload: Reload | None = None,
        watch_every: float = WATCH_EVERY_S,
        digests: Sequence[DigestTime] = (),
        maintenance: Callable[[], object] | None = None,
    ) -> None:
        self.digests = list(digests)
        self._maintenance = maintenance
        self.jobs = list(jobs)
        self._reload = reload
        self._watch_every = watch_every
        self._scheduler: AsyncIOScheduler | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.reloads = 0
        self._on_stop = on_stop  # e.g. ask running Scrapy crawls to close early
        self._poll = poll
        self._dispatch = dispatch
        self._dispatch_every = dispatch_every
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="regwatch-poll")
        self._stopping: asyncio.Event | None = None
        self.polls = 0

    async def _run_poll(self, source: SourceConfig) -> None:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._worker, self._poll, source)
        try:
            summary = await asyncio.shield(future)
        except asyncio.CancelledError:  # shutting down: the worker finishes what it started
            log.info("poll of %s left to finish during shutdown", source.name)
            return
        except Exception:
            log.exception("poll of %s failed", source.name)
            return
        self.polls += 1
        if summary.signals_new:  # strong signals go out in this cycle, not the next tick
            await self._run_dispatch()
        o = summary.outcomes
        log.info(
            "polled %s: %d items, %s",
            source.name,
            summary.items_seen,
            "; ".join([summary.counts_text(), *summary.notes(skipped=1)]),
            extra={
                "source": source.name,
                "items": summary.items_seen,
                "new": o["new"],
                "updated": o["updated"],
                "signals": summary.signals_new,
                "skipped": len(summary.skipped),
                "error": summary.errors.get(source.name),
            },
        )

    async def _run_dispatch(self) -> None:
        if self._dispatch is None:
            return
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._worker, self._dispatch)
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            log.info("outbox cycle left to finish during shutdown")
        except Exception:
            log.exception("outbox cycle failed")

    def _schedule(self, scheduler: AsyncIOScheduler) -> None:
        now = datetime.now(UTC)
        if self._dispatch is not None:
            scheduler.add_job(
                self._run_dispatch,
                IntervalTrigger(seconds=self._dispatch_every),
                id="outbox",
                name="alerts and digests",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, int(self._dispatch_every)),
                next_run_time=now,
            )
        for d in self.digests if self._dispatch is not None else ():
            # At each subscription's local digest time, as well as on the outbox tick: a digest
            # missed while the service was down is found by the next cycle after a restart.
            scheduler.add_job(
                self._run_dispatch,
                CronTrigger(hour=d.hour, minute=d.minute, timezone=ZoneInfo(d.timezone)),
                id=f"digest:{d.subscription}",
                name=f"digest {d.subscription}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=3600,
                replace_existing=True,
            )
        if self._maintenance is not None:
            scheduler.add_job(
                self._run_maintenance,
                CronTrigger(hour=3, minute=30, timezone=UTC),
                id="maintenance",
                name="database maintenance",
                max_instances=1,
                coalesce=True,
            )
        if self._reload is not None:
            scheduler.add_job(
                self._run_reload,
                IntervalTrigger(seconds=self._watch_every),
                args=[False],
                id="reload",
                name="watch the configuration",
                max_instances=1,
                coalesce=True,
            )
        for job in self.jobs:
            self._add_source_job(scheduler, job, now)

    async def _run_maintenance(self) -> None:
        if self._maintenance is None:
            return
        loop = asyncio.get_running_loop()
        try:
            await asyncio.shield(loop.run_in_executor(self._worker, self._maintenance))
        except asyncio.CancelledError:
            log.info("maintenance left to finish during shutdown")
        except Exception:
            log.exception("maintenance failed")

    def _add_source_job(self, scheduler: AsyncIOScheduler, job: SourceJob, now: datetime) -> None:
        # Poll soon after it is scheduled, spread over a few seconds, not all at once.
        spread = min(job.jitter.total_seconds(), FIRST_POLL_SPREAD_S)
        first = now + timedelta(seconds=random.uniform(0, spread))  # noqa: S311
        scheduler.add_job(
            self._run_poll,
            IntervalTrigger(
                seconds=job.interval.total_seconds(),
                jitter=int(job.jitter.total_seconds()) or None,
            ),
            args=[job.source],
            id=f"source:{job.source.name}",
            name=f"poll {job.source.name}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(job.interval.total_seconds())),
            next_run_time=first,
            replace_existing=True,
        )

    async def _run_reload(self, force: bool) -> None:
        """Apply a changed configuration: new sources are polled soon, removed or disabled ones
        stop, changed ones are rescheduled; running polls finish as they are."""
        if self._reload is None or self._scheduler is None:
            return
        loop = asyncio.get_running_loop()
        try:
            jobs = await loop.run_in_executor(None, self._reload, force)
        except Exception as exc:
            log.error("configuration not reloaded, the running jobs stay: %s", exc)
            return
        if jobs is None:
            return
        old = {j.source.name: j for j in self.jobs}
        new = {j.source.name: j for j in jobs}
        now = datetime.now(UTC)
        for name in old.keys() - new.keys():
            with contextlib.suppress(JobLookupError):
                self._scheduler.remove_job(f"source:{name}")
        changed = [j for name, j in new.items() if old.get(name) != j]
        for job in changed:
            self._add_source_job(self._scheduler, job, now)
        self.jobs = list(jobs)
        self.reloads += 1
        log.info(
            "configuration reloaded: %d sources scheduled (%d added or changed, %d removed)",
            len(self.jobs),
            len(changed),
            len(old.keys() - new.keys()),
        )

    def _reload_now(self) -> None:
        task = asyncio.get_running_loop().create_task(self._run_reload(True))
        self._tasks.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)

    def stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()

    async def run(self) -> None:
        self._stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread
                loop.add_signal_handler(sig, self.stop)
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, self._reload_now)
        scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler = scheduler
        self._schedule(scheduler)
        scheduler.start()
        log.info("regwatch service started: %d sources scheduled", len(self.jobs))
        try:
            await self._stopping.wait()
        finally:
            scheduler.shutdown(wait=False)
            if self._on_stop is not None:
                try:
                    await self._on_stop()
                except Exception:
                    log.exception("stopping running crawls failed")
            # Let an in-flight poll finish its current write; no new work is started.
            await loop.run_in_executor(
                None, lambda: self._worker.shutdown(wait=True, cancel_futures=True)
            )
            log.info("regwatch service stopped after %d polls", self.polls)


def jobs_for(sources: Sequence[SourceConfig]) -> list[SourceJob]:
    """One job per enabled source, at its interval with up to 10 % jitter."""
    return [
        SourceJob(
            s, timedelta(minutes=s.interval_minutes), timedelta(seconds=s.interval_minutes * 6)
        )
        for s in sources
        if s.enabled
    ]


def digest_times(subscriptions: Sequence[SubscriptionConfig]) -> list[DigestTime]:
    """Each subscription with recipients gets a cron job at its local digest time."""
    out = []
    for sub in subscriptions:
        if sub.recipients:
            at = sub.digest_time
            out.append(DigestTime(sub.name, at.hour, at.minute, sub.timezone))
    return out
