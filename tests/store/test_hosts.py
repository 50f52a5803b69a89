"""The per-host slots shared through PostgreSQL: request starts spaced by the delay and at most
``concurrency`` in flight across limiters (one per worker process in production; here several
in threads, each with its own connections), and a slot freed when its holder is SIGKILLed."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
from sqlalchemy import Engine

from regwatch.store.hosts import SharedHostLimiter
from tests.conftest import spawn_python

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_starts_are_spaced_and_concurrency_bounded_across_limiters(engine: Engine) -> None:
    limiters = [SharedHostLimiter(engine, concurrency=2, delay=0.1) for _ in range(3)]
    starts: list[float] = []
    inflight = [0]
    most = [0]
    lock = threading.Lock()

    def request(limiter: SharedHostLimiter) -> None:
        with limiter.slot("Example.ORG"):
            with lock:
                starts.append(time.monotonic())
                inflight[0] += 1
                most[0] = max(most[0], inflight[0])
            time.sleep(0.25)  # the request's own time, longer than the delay
            with lock:
                inflight[0] -= 1

    threads = [threading.Thread(target=request, args=(lim,)) for lim in limiters for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    starts.sort()
    assert len(starts) == 9
    # a start is reserved in the database; the thread runs it a little later on a busy
    # machine, so the starts it records may come up to 50 ms closer than the delay
    assert min(b - a for a, b in itertools.pairwise(starts)) >= 0.1 - 0.05
    assert most[0] == 2  # concurrency reached, never passed


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_hosts_are_independent(engine: Engine) -> None:
    limiter = SharedHostLimiter(engine, concurrency=1, delay=5.0)
    t0 = time.monotonic()
    with limiter.slot("a.example"):
        pass
    with limiter.slot("b.example"):  # another host: no wait for a.example's delay
        pass
    assert time.monotonic() - t0 < 2.0


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_killed_holder_frees_its_slot(engine: Engine) -> None:
    holder = spawn_python(
        "import sys, time\n"
        "from regwatch.store import db\n"
        "from regwatch.store.hosts import SharedHostLimiter\n"
        "lim = SharedHostLimiter(db.make_engine(sys.argv[1]), concurrency=1)\n"
        "with lim.slot('held.example'):\n"
        "    print('holding', flush=True)\n"
        "    time.sleep(600)\n",
        engine.url.render_as_string(hide_password=False),
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "holding"
        got = threading.Event()

        def take() -> None:
            with SharedHostLimiter(engine, concurrency=1).slot("held.example"):
                got.set()

        waiter = threading.Thread(target=take, daemon=True)
        waiter.start()
        assert not got.wait(0.5)  # the live holder keeps it
        holder.kill()  # SIGKILL: the server drops its session and the lock with it
        assert got.wait(10)
        waiter.join(10)  # it released the slot before the database goes
    finally:
        holder.kill()
        holder.communicate(timeout=10)  # and close its pipes


def test_sqlite_is_refused_with_a_reason(tmp_path: object) -> None:
    from regwatch.store import db

    eng = db.make_engine("sqlite://")
    with pytest.raises(ValueError, match="PostgreSQL"):
        SharedHostLimiter(eng)
