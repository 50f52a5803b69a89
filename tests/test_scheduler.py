from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from regwatch.config import SourceConfig
from regwatch.crawlers import Fetcher, FetchPolicy
from regwatch.nlp import Flagger
from regwatch.pipeline import RunSummary, collect_sources
from regwatch.scheduler import Service, SourceJob, jobs_for
from regwatch.store import db
from regwatch.store import models as m
from tests.alerts.conftest import (
    SmtpServer,
    outbox,
    smtp,
    subscription,
)
from tests.conftest import LocalSite

__all__ = ["smtp"]  # the fixture, shared with tests/alerts

RSS = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>Законопроект об искусственном интеллекте</title><link>__BASE__/n/1</link>
<description>Министерство цифрового развития внесло законопроект об ИИ.</description></item>
</channel></rss>"""


def wait_for(predicate, timeout: float = 20.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_repeated_polls_in_one_long_lived_service(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    url = site.add("/rss.xml", RSS, content_type="application/rss+xml")
    source = SourceConfig(name="feed", url=url, country="kz")
    with Fetcher(
        FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
    ) as fetcher:
        service = Service(
            [SourceJob(source, timedelta(milliseconds=200))],
            lambda src: collect_sources(engine, flagger, fetcher, [src]),
        )

        async def main() -> None:
            task = asyncio.create_task(service.run())
            deadline = time.monotonic() + 20
            while service.polls < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            service.stop()
            await asyncio.wait_for(task, 10)

        asyncio.run(main())
    assert service.polls >= 3
    assert site.hits.count("/rss.xml") >= 3
    with db.session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(m.Document)) == 1
        assert (s.scalar(select(func.count()).select_from(m.Run)) or 0) >= 3


def test_jobs_for_skips_disabled_sources() -> None:
    jobs = jobs_for(
        [
            SourceConfig(name="a", url="https://a/", interval_minutes=30),
            SourceConfig(name="b", url="https://b/", enabled=False),
        ]
    )
    assert [(j.source.name, j.interval, j.jitter) for j in jobs] == [
        ("a", timedelta(minutes=30), timedelta(minutes=3))
    ]


def test_service_process_polls_refuses_a_second_instance_and_stops_on_sigterm(
    tmp_path: Path, site: LocalSite
) -> None:
    url = site.add("/rss.xml", RSS, content_type="application/rss+xml")
    site.add("/list", "<a class='n' href='/n/2'>2</a>")
    body = "Министерство цифрового развития внесло законопроект об искусственном интеллекте. " * 2
    site.add("/n/2", f"<html><body><article><h1>Проект</h1><p>{body}</p></article></body></html>")
    dbfile = tmp_path / "svc.db"
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[database]\nurl = "sqlite:///{dbfile}"\n[fetch]\nallow_networks = ["127.0.0.0/8"]\n'
        f'[[sources]]\nname = "feed"\nurl = "{url}"\ncountry = "kz"\n'
        f'[[sources]]\nname = "portal"\nurl = "{site.base}/list"\ntype = "html"\n'
        'link_selector = "a.n"\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "REGWATCH_DATABASE_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "regwatch.cli", "--config", str(cfg), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:

        def stored() -> bool:
            if not dbfile.exists():
                return False
            try:
                with sqlite3.connect(dbfile) as conn:
                    finished = "SELECT count(*) FROM runs WHERE finished_at IS NOT NULL"
                    return int(conn.execute(finished).fetchone()[0]) >= 2
            except sqlite3.OperationalError:
                return False  # schema not created yet

        wait_for(stored, what="the first polls (a feed, a Scrapy crawl) to finish")
        second = subprocess.run(
            [sys.executable, "-m", "regwatch.cli", "--config", str(cfg), "run"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert second.returncode == 1
        assert f"another regwatch run (pid {proc.pid}) is using" in second.stderr
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=10)
        assert time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "polled feed: 1 items, 1 new" in err and "service stopped" in err
    assert "polled portal: 1 items, 1 new" in err


def test_strong_signal_is_pushed_in_the_poll_cycle_that_found_it(
    engine: Engine, flagger: Flagger, site: LocalSite, smtp: SmtpServer
) -> None:
    """The outbox's own tick is 10 minutes away: the alert comes from the poll's cycle."""

    url = site.add("/rss.xml", RSS, content_type="application/rss+xml")
    source = SourceConfig(name="feed", url=url, country="kz")
    sub = subscription(alert_threshold=0.8)
    box = outbox(engine, smtp.config(), sub)
    with Fetcher(
        FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
    ) as fetcher:
        service = Service(
            [SourceJob(source, timedelta(seconds=600))],
            lambda src: collect_sources(engine, flagger, fetcher, [src]),
            dispatch=box.dispatch,
            dispatch_every=600,
        )

        async def main() -> None:
            task = asyncio.create_task(service.run())
            deadline = time.monotonic() + 20
            while not smtp.inbox.messages and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            service.stop()
            await asyncio.wait_for(task, 10)

        asyncio.run(main())
    [alert] = smtp.inbox.messages
    assert alert.message["Subject"].startswith("[regwatch] Draft laws")
    assert service.polls == 1


def test_three_scheduled_scrapy_crawls_in_one_process(
    tmp_path: Path, flagger: Flagger, site: LocalSite
) -> None:
    """An html source polled by the long-lived service: each poll is a Scrapy crawl on a loop
    of its own (AsyncCrawlerRunner); three in a row in one process, stored once."""
    body = "Министерство цифрового развития внесло законопроект об искусственном интеллекте. " * 3
    site.add("/list", "<a class='n' href='/n/1'>1</a><a class='n' href='/n/2'>2</a>")
    for i in (1, 2):
        site.add(f"/n/{i}", f"<html><body><article><h1>Проект {i}</h1><p>{body}</p></article>")
    source = SourceConfig(name="portal", url=site.base + "/list", type="html", link_selector="a.n")
    engine = db.make_engine(f"sqlite:///{tmp_path / 'crawl.db'}")
    db.upgrade(engine)
    summaries: list[RunSummary] = []

    def poll(src: SourceConfig) -> RunSummary:
        summary = collect_sources(engine, flagger, fetcher, [src])
        summaries.append(summary)
        return summary

    with Fetcher(
        FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
    ) as fetcher:
        service = Service([SourceJob(source, timedelta(milliseconds=300))], poll)

        async def main() -> None:
            task = asyncio.create_task(service.run())
            deadline = time.monotonic() + 30
            while service.polls < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            service.stop()
            await asyncio.wait_for(task, 15)

        asyncio.run(main())
    assert service.polls >= 3 and site.hits.count("/list") >= 3
    assert all(s.sources_ok == 1 and not s.errors for s in summaries), summaries
    assert summaries[0].outcomes["new"] == 2
    # Later crawls read the listing again but spare the stored articles (revisit_days).
    assert all(s.items_seen == 0 for s in summaries[1:])
    assert site.hits.count("/n/1") == site.hits.count("/n/2") == 1
    with db.session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(m.Document)) == 2
    engine.dispose()


def test_stopping_the_service_closes_a_running_crawl_early(
    tmp_path: Path, flagger: Flagger, site: LocalSite
) -> None:
    """A crawl of 20 pages, 0.4 s apart: stopping the service mid-crawl closes the spider —
    no waiting for the rest — and what was scraped so far is stored."""
    from regwatch.crawlers.crawl import stop_crawls

    body = "Министерство цифрового развития внесло законопроект об искусственном интеллекте. " * 2
    site.add("/list", "".join(f"<a class='n' href='/n/{i}'>{i}</a>" for i in range(20)))
    for i in range(20):
        site.add(f"/n/{i}", f"<html><body><article><h1>П {i}</h1><p>{body}</p></article></body>")
    source = SourceConfig(name="portal", url=site.base + "/list", type="html", link_selector="a.n")
    engine = db.make_engine(f"sqlite:///{tmp_path / 'stop.db'}")
    db.upgrade(engine)
    policy = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.4)
    with Fetcher(policy) as fetcher:
        service = Service(
            [SourceJob(source, timedelta(hours=1))],
            lambda src: collect_sources(engine, flagger, fetcher, [src]),
            on_stop=stop_crawls,
        )

        async def main() -> float:
            task = asyncio.create_task(service.run())
            deadline = time.monotonic() + 20
            while sum(h.startswith("/n/") for h in site.hits) < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            started = time.monotonic()
            service.stop()
            await asyncio.wait_for(task, 15)
            return time.monotonic() - started

        took = asyncio.run(main())
    assert took < 4, took
    fetched = sum(h.startswith("/n/") for h in site.hits)
    assert 2 <= fetched < 20
    with db.session_scope(engine) as s:
        stored = s.scalar(select(func.count()).select_from(m.Document)) or 0
    assert 1 <= stored <= fetched
    engine.dispose()


def test_running_service_picks_up_an_enabled_source_and_drops_a_disabled_one(
    tmp_path: Path, site: LocalSite
) -> None:
    """`regwatch sources enable/disable` while `regwatch run` runs: no restart needed."""
    first = site.add("/a.xml", RSS, content_type="application/rss+xml")
    second = site.add("/b.xml", RSS.replace("/n/1", "/n/2"), content_type="application/rss+xml")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "live.db"}"\n'
        "[fetch]\nallow_networks = ['127.0.0.0/8']\n"
        f'[[sources]]\nname = "a"\nurl = "{first}"\ncountry = "kz"\ninterval_minutes = 1\n'
        f'[[sources]]\nname = "b"\nurl = "{second}"\ncountry = "kz"\nenabled = false\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "REGWATCH_DATABASE_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "regwatch.cli", "--config", str(cfg), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    admin = [sys.executable, "-m", "regwatch.cli", "--config", str(cfg), "sources"]
    lines: list[str] = []
    stream = proc.stderr
    assert stream is not None
    reader = threading.Thread(target=lambda: lines.extend(iter(stream.readline, "")))
    reader.start()
    try:
        wait_for(lambda: "/a.xml" in site.hits, what="source a to be polled")
        assert "/b.xml" not in site.hits
        subprocess.run([*admin, "enable", "b"], check=True, env=env, capture_output=True)
        wait_for(lambda: "/b.xml" in site.hits, timeout=30, what="source b to be polled")
        subprocess.run([*admin, "disable", "a"], check=True, env=env, capture_output=True)
        proc.send_signal(signal.SIGHUP)  # also reloads at once, without waiting for the watch
        polls_of_a = site.hits.count("/a.xml")
        wait_for(lambda: any("1 removed" in line for line in lines), what="the reload dropping a")
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
        reader.join(10)
        stream.close()
        if proc.stdout is not None:
            proc.stdout.close()
    err = "".join(lines)
    assert proc.returncode == 0, err
    assert err.count("configuration reloaded") >= 2, err
    assert "configuration reloaded: 1 sources scheduled (0 added or changed, 1 removed)" in err
    assert site.hits.count("/a.xml") == polls_of_a  # disabled: not polled again


def test_digest_jobs_at_each_subscriptions_local_time() -> None:
    from datetime import UTC, datetime

    from regwatch.scheduler import digest_times
    from tests.alerts.conftest import subscription

    subs = [
        subscription(name="almaty", digest_time="08:30", timezone="Asia/Almaty"),
        subscription(name="hooks-only", recipients=(), webhooks=("json://h.example/x",)),
    ]
    times = digest_times(subs)
    assert [(d.subscription, d.hour, d.minute, d.timezone) for d in times] == [
        ("almaty", 8, 30, "Asia/Almaty")
    ]
    service = Service([], lambda src: RunSummary(), dispatch=lambda: None, digests=times)

    async def scheduled() -> datetime | None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        scheduler = AsyncIOScheduler(timezone=UTC)
        service._schedule(scheduler)
        scheduler.start(paused=True)
        try:
            job = scheduler.get_job("digest:almaty")
            return job.next_run_time if job else None
        finally:
            scheduler.shutdown(wait=False)

    when = asyncio.run(scheduled())
    assert when is not None and (when.hour, when.minute) == (8, 30)
    assert when.utcoffset() == timedelta(hours=5)
