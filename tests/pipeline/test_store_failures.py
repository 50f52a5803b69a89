"""An item that failed to store is never lost; a lock or a killed run never bends the truth.

Real stores only: a trigger makes one item's insert fail (as a per-item store error does),
another connection holds SQLite's write lock, a subprocess is SIGKILLed mid-run."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from regwatch.config import SourceConfig
from regwatch.crawlers import Fetcher, FetchPolicy
from regwatch.nlp import Flagger
from regwatch.pipeline import collect_sources
from regwatch.pipeline.runs import open_run
from regwatch.status import read_status
from regwatch.store import db
from regwatch.store import models as m
from tests.conftest import LocalSite, spawn_python

ROOT = Path(__file__).resolve().parents[2]
POLICY = FetchPolicy(timeout=5.0, allow_networks=("127.0.0.0/8",), per_host_delay=0.0)
FEED = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>Первая новость</title><link>__BASE__/n/1</link><description>Один.</description></item>
<item><title>POISON</title><link>__BASE__/n/2</link><description>Два.</description></item>
<item><title>Третья новость</title><link>__BASE__/n/3</link><description>Три.</description></item>
</channel></rss>"""


def _poison(engine: Engine, on: bool) -> None:
    """A trigger that makes the insert of the item titled POISON fail, as any per-item store
    error (a lock, a constraint) would."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS poison")
            if on:
                conn.exec_driver_sql(
                    "CREATE TRIGGER poison BEFORE INSERT ON documents WHEN NEW.title = 'POISON' "
                    "BEGIN SELECT RAISE(ABORT, 'poisoned item'); END"
                )
            return
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS poison ON documents")
        if on:
            conn.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
                "IF NEW.title = 'POISON' THEN RAISE EXCEPTION 'poisoned item'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER poison BEFORE INSERT ON documents "
                "FOR EACH ROW EXECUTE FUNCTION poison()"
            )


def _conditional_feed(site: LocalSite, body: str, etag: str) -> str:
    data = body.replace("__BASE__", site.base).encode()

    def route(headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if headers.get("if-none-match") == etag:
            return 304, {"ETag": etag}, b""
        return 200, {"Content-Type": "application/rss+xml", "ETag": etag}, data

    site.routes["/feed.xml"] = route
    return site.base + "/feed.xml"


def _titles(engine: Engine) -> set[str]:
    with db.session_scope(engine) as s:
        return set(s.scalars(select(m.Document.title)))


def test_an_item_that_failed_to_store_is_fetched_again_and_stored(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    url = _conditional_feed(site, FEED, '"v1"')
    source = SourceConfig(name="feed", url=url, country="kz")
    _poison(engine, True)
    with Fetcher(POLICY) as fetcher:
        first = collect_sources(engine, flagger, fetcher, [source])
        assert first.outcomes["new"] == 2 and first.not_stored == 1
        assert first.sources_failed == 1 and "1 of 3 items not stored" in first.errors["feed"]
        with db.session_scope(engine) as s:
            row = s.scalars(select(m.Source)).one()
            assert row.etag is None  # the validator did not advance past the lost item
            assert row.consecutive_failures == 1 and "poisoned" in (row.last_error or "")
            run = s.scalars(select(m.Run)).one()
            assert run.status == "partial" and "1 items not stored" in (run.error or "")
        _poison(engine, False)
        second = collect_sources(engine, flagger, fetcher, [source])
        third = collect_sources(engine, flagger, fetcher, [source])
    assert "if-none-match" not in site.requests[1][1]  # a full GET, not a conditional one
    assert second.outcomes["new"] == 1 and second.sources_ok == 1 and not second.not_modified
    assert _titles(engine) == {"Первая новость", "POISON", "Третья новость"}
    assert third.not_modified == ["feed"]  # now that all is stored, the validator advanced


def test_a_write_lock_past_the_busy_timeout_fails_one_source_not_the_run(
    tmp_path: Path, flagger: Flagger, site: LocalSite
) -> None:
    """Another writer takes SQLite's write lock while source a is fetched and keeps it past
    the busy timeout: a is recorded as failed (its items retried next time), b goes on."""
    path = tmp_path / "locked.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    data = FEED.replace("__BASE__", site.base).encode()

    def feed_a(headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if not other.in_transaction and len(site.hits) == 1:
            other.execute("BEGIN IMMEDIATE")  # held until a has been given up
        return 200, {"Content-Type": "application/rss+xml", "ETag": '"a1"'}, data

    site.routes["/a.xml"] = feed_a
    a = SourceConfig(name="a", url=site.base + "/a.xml", country="kz")
    feed_b = FEED.replace("POISON", "Вторая").replace("/n/", "/m/")
    b = SourceConfig(
        name="b", url=site.add("/b.xml", feed_b, content_type="application/rss+xml"), country="kz"
    )

    def progress(line: str) -> None:
        if other.in_transaction:
            other.execute("ROLLBACK")

    with Fetcher(POLICY) as fetcher:
        summary = collect_sources(engine, flagger, fetcher, [a, b], progress=progress)
        assert "locked" in summary.errors["a"] and summary.sources_ok == 1
        assert summary.outcomes["new"] == 3 and summary.not_stored == 3
        with db.session_scope(engine) as s:
            run = s.scalars(select(m.Run)).one()
            assert run.status == "partial" and "locked" in (run.error or "")
            assert s.scalar(select(m.Source.etag).where(m.Source.name == "a")) is None
        again = collect_sources(engine, flagger, fetcher, [a, b])
    assert again.outcomes["new"] == 3 and again.sources_failed == 0
    other.close()
    engine.dispose()


RUNNER = """
import sys
from regwatch.pipeline.runs import open_run
from regwatch.store import db
engine = db.make_engine(sys.argv[1])
run_id, holder, _ = open_run(engine, "import")
print("open", run_id, flush=True)
sys.stdin.read()
"""


def test_a_killed_run_reads_and_closes_as_interrupted(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    proc = spawn_python(RUNNER, url)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert line[:1] == ["open"], proc.stderr.read() if proc.stderr else ""
        now = datetime.now(UTC).replace(tzinfo=None)
        alive = read_status(engine, [], [], now)
        assert alive.runs[0]["status"] == "running" and alive.healthy
        own_id, own, _ = open_run(engine, "collect")  # a live holder's row is left alone
        with db.session_scope(engine) as s:
            assert s.get_one(m.Run, int(line[1])).status == "running"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while read_status(engine, [], [], now).runs[1]["status"] != "interrupted":
            assert time.monotonic() < deadline, "the killed run still reads as running"
            time.sleep(0.05)  # the server notices the dead connection asynchronously
        status = read_status(engine, [], [], now)
        assert any("import run" in p and "interrupted" in p for p in status.problems)
        assert status.runs[0]["status"] == "running"  # ours: still held
        _, later, _ = open_run(engine, "collect")
        with db.session_scope(engine) as s:
            killed = s.get_one(m.Run, int(line[1]))
            assert killed.status == "interrupted" and "killed" in (killed.error or "")
            assert s.get_one(m.Run, own_id).status == "running"
            assert s.scalar(select(func.count()).select_from(m.Run)) == 3
        own.release()
        later.release()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_an_item_link_longer_than_the_column_is_skipped_with_a_reason(
    engine: Engine, flagger: Flagger, site: LocalSite
) -> None:
    long_link = "__BASE__/n/" + "x" * 2100
    body = FEED.replace("__BASE__/n/2", long_link)
    source = SourceConfig(name="feed", url=_conditional_feed(site, body, '"v1"'), country="kz")
    with Fetcher(POLICY) as fetcher:
        summary = collect_sources(engine, flagger, fetcher, [source])
    assert summary.sources_ok == 1 and summary.outcomes["new"] == 2 and not summary.not_stored
    assert any("over the 2048 the database keeps" in s for s in summary.skipped)
    assert _titles(engine) == {"Первая новость", "Третья новость"}
