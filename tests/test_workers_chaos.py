"""The chaos test of issue 17: 3 `regwatch worker` and 2 `regwatch scheduler` processes on one
PostgreSQL database, 120 feeds on 6 loopback hosts (the issue says 200: scaled down, see
SOURCES), a subscription mailing alerts and a digest to a real SMTP server (aiosmtpd). A random
worker (seeded schedule; the victim is one of those up at that moment) is SIGKILLed 20 times and
restarted; then the leading scheduler is SIGKILLed too. Then:

* every item is stored once (one document, one version each);
* every alert and digest row is sent, each Message-ID received, and a copy only where a
  worker died mid-send (never more copies than the row's attempts);
* no feed is fetched twice in one interval (60 s, the shortest `interval_minutes`);
* requests to one host start at least ``per_host_delay`` apart across all workers;
* once every item is stored the leading scheduler is SIGKILLed: the standby leads, and each
  feed's next poll comes one interval after its last (plus queueing), no round missed.

It runs at least two poll rounds (the interval is a whole minute): about three minutes on a
quiet machine, much longer while other suites load it.
"""

from __future__ import annotations

import itertools
import random
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from regwatch.enqueuer import LEADER_KEY
from tests.alerts.conftest import SmtpServer, smtp
from tests.fleet import Fleet, Hosts, feed, scalar, wait_until, write_config

__all__ = ["smtp"]

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

# The issue asks for 200 sources; 120 keep the test near two minutes on this 2-core machine
# while other suites run (a worker process takes 5-15 s to start under that load).
HOSTS, SOURCES, ITEMS = 6, 120, 5
DELAY = 0.2  # per_host_delay
INTERVAL = 60.0  # interval_minutes = 1, the shortest there is
KILLS = 20
SEED = 17
WORKERS = ("w1", "w2", "w3")


@pytest.fixture
def hosts() -> Iterator[Hosts]:
    h = Hosts(HOSTS)
    yield h
    h.close()


def _leader_pid(db_url: str) -> int | None:
    name = scalar(
        db_url,
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.objid = :k AND l.objsubid = 1 AND l.granted",
        k=LEADER_KEY,
    )
    m = re.search(r"pid=(\d+)", name or "")
    return int(m.group(1)) if m else None


def _polled_after(hosts: Hosts, when: float) -> int:
    return len({hit.path for hit in hosts.snapshot() if hit.start > when})


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_three_workers_two_schedulers_kills_nothing_lost_or_doubled(
    db_url: str, tmp_path: Path, hosts: Hosts, smtp: SmtpServer
) -> None:
    sources = []
    for i in range(SOURCES):
        h = i % HOSTS
        name, path = f"s{i:03d}", f"/feed/{i}.xml"
        hosts.feeds[(f"127.0.0.{h + 1}", path)] = feed(hosts.base(h), name, ITEMS, strong_every=5)
        sources.append((name, hosts.base(h) + path))
    due = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%H:%M")  # a digest due now
    cfg = write_config(
        tmp_path / "config.toml",
        db_url,
        sources,
        per_host_delay=DELAY,
        extra=(
            f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"\ntimeout = 1.0\n'
            "[delivery]\nalerts_per_hour = 1000\n"
            f'[[subscriptions]]\nname = "gr"\nrecipients = ["analyst@example.org"]\n'
            f'digest_time = "{due}"\ntimezone = "UTC"\nalert_threshold = 0.5\n'
        ),
    )
    fleet = Fleet(cfg)
    rng = random.Random(SEED)
    started = time.time()
    try:
        for w in WORKERS:
            fleet.start("worker", w)
        for s in ("a", "b"):
            fleet.start("scheduler", s)
        # five processes migrate, create the queue and load the flagger: slow on a busy machine
        wait_until(lambda: _leader_pid(db_url) is not None, 180, "a scheduler to lead")
        for _ in range(KILLS):
            # the chaos schedule (not a wait for a result: those poll with a deadline below);
            # the victim is one that is up, so the kill lands on a working process
            time.sleep(rng.uniform(1.0, 2.5))
            wait_until(lambda: any(fleet.up(w) for w in WORKERS), 240, "a worker to be up")
            victim = rng.choice([w for w in WORKERS if fleet.up(w)])
            fleet.kill(victim)
            fleet.start("worker", victim)
        # every item stored: what a killed poll did not store comes with the next interval's
        wait_until(
            lambda: scalar(db_url, "SELECT count(*) FROM documents") == SOURCES * ITEMS,
            240,
            "every item to be stored",
            every=1.0,
        )
        # now the leading scheduler dies; the standby must keep the polls coming
        assert all(fleet.procs[x].poll() is None for x in ("a", "b")), "a scheduler died"
        pid = _leader_pid(db_url)
        name = next(n for n, p in fleet.procs.items() if p.pid == pid)
        fleet.kill(name)
        leader_killed = time.time()
        wait_until(
            lambda: _leader_pid(db_url) not in (None, pid), 30, "the standby scheduler to lead"
        )
        fleet.start("scheduler", name)  # back, as a standby now
        # every row of the outbox sent (the digest went out; alerts follow their signals)
        wait_until(
            lambda: (
                scalar(
                    db_url,
                    "SELECT count(*) FROM deliveries WHERE status NOT IN ('sent', 'skipped', "
                    "'bundled')",
                )
                == 0
                and scalar(db_url, "SELECT count(*) FROM deliveries WHERE kind = 'digest'") == 1
            ),
            60,
            "the outbox to drain",
        )
        # and every feed polled again after the leader died
        wait_until(
            lambda: _polled_after(hosts, leader_killed) == SOURCES,
            INTERVAL + 60,
            "every feed's poll after the leader died",
        )
    finally:
        codes = fleet.stop_all()
    elapsed = time.time() - started
    assert codes == [0] * len(codes), codes

    # every item stored once
    assert scalar(db_url, "SELECT count(DISTINCT canonical_url) FROM documents") == SOURCES * ITEMS
    assert (
        scalar(
            db_url,
            "SELECT max(n) FROM (SELECT count(*) n FROM document_versions GROUP BY document_id) x",
        )
        == 1
    )
    # every delivery sent, received, and copied only where a send was cut short
    eng = create_engine(db_url)
    with eng.connect() as conn:
        sent = conn.execute(
            text("SELECT message_id, attempts FROM deliveries WHERE status = 'sent'")
        )
        rows = {str(mid): int(attempts) for mid, attempts in sent}
    eng.dispose()
    assert scalar(db_url, "SELECT count(*) FROM deliveries WHERE kind = 'alert'") >= 1
    received: dict[str, int] = {}
    for msg in smtp.inbox.messages:
        mid = str(msg.message["Message-ID"])
        received[mid] = received.get(mid, 0) + 1
    assert set(received) == set(rows)
    assert all(received[mid] <= rows[mid] for mid in rows), received

    hits = hosts.snapshot()
    # per-host spacing across all workers: starts at least DELAY apart (arrival times on the
    # server carry a little scheduling noise: 50 ms allowed)
    by_host: dict[str, list[float]] = {}
    by_feed: dict[str, list[float]] = {}
    for hit in hits:
        by_host.setdefault(hit.host, []).append(hit.start)
        by_feed.setdefault(f"{hit.host}{hit.path}", []).append(hit.start)
    gaps = [b - a for t in by_host.values() for a, b in zip(sorted(t), sorted(t)[1:], strict=False)]
    assert min(gaps) >= DELAY - 0.05, f"two requests to one host {min(gaps):.3f} s apart"
    # no feed fetched twice in one interval: between the claim and the request a poll waits
    # for its host (at most 20 feeds x 0.2 s here), so the server sees a gap of at least
    # the interval less that wait
    host_queue = SOURCES / HOSTS * DELAY
    feed_gaps = [b - a for t in by_feed.values() for a, b in itertools.pairwise(t)]
    assert len(by_feed) == SOURCES
    assert min(feed_gaps) >= INTERVAL - host_queue - 2, min(feed_gaps)
    # polls went on after the leader died: the gap of each feed's polls across the kill is
    # one interval (plus the time its job waited for a worker on a loaded machine: 40 s
    # allowed), not a missed round
    across = [
        min(t for t in times if t > leader_killed) - max(t for t in times if t < leader_killed)
        for times in by_feed.values()
    ]
    assert max(across) <= INTERVAL + 40, max(across)
    print(
        f"chaos: {len(hits)} requests, {SOURCES * ITEMS} documents, {len(smtp.inbox.messages)} "
        f"mails for {len(rows)} deliveries, min host gap {min(gaps):.3f} s, min feed gap "
        f"{min(feed_gaps):.1f} s, gap across the leader's death {min(across):.1f}.."
        f"{max(across):.1f} s, {elapsed:.0f} s"
    )
