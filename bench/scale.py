"""Scaling out (issue 17): documents/s with 1, 2 and 3 `regwatch worker` processes against one
`regwatch run --once`, measured in the same run on fresh PostgreSQL databases.

``REGWATCH_BENCH_SCALE_FEEDS`` feeds (default 60) of ``REGWATCH_BENCH_SCALE_ITEMS`` items
(default 60, ~1.5 KB of Russian text each, every one distinct) are served from loopback.
Each configuration starts on an empty database; the rate is taken from the first document
stored to the last (process start-up and model loading left out, the same for all), so it
is the steady throughput of fetch → parse → flag → store. Politeness is off for the
measurement (no per-host delay, 16 requests in flight per host): it is the CPU and the store
that are measured, not the wait between requests. Documents per CPU second of the measured
processes (read from /proc over the same span; PostgreSQL's own CPU not counted) is printed
too: on a machine other suites load, wall-clock rates swing with their load, CPU per document
does not — if it stays flat from 1 to 3 workers, nothing in the way they share the work costs
extra, and throughput grows with the cores there are.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

__all__ = ["main", "measure"]

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get(
    "REGWATCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
FEEDS = int(os.environ.get("REGWATCH_BENCH_SCALE_FEEDS", "60"))
ITEMS = int(os.environ.get("REGWATCH_BENCH_SCALE_ITEMS", "60"))
PARA = (
    "Министерство цифрового развития внесло в парламент законопроект № {n} об искусственном "
    "интеллекте: он вводит реестр систем высокого риска, обязательную оценку воздействия и "
    "штрафы за нарушение правил обработки персональных данных ({n}). Комитет по информатизации "
    "рассмотрит проект во втором чтении; эксперты предлагают поправки о прозрачности "
    "алгоритмов и о праве граждан обжаловать автоматизированные решения ({n}). "
)


def _feed(f: int) -> bytes:
    items = []
    for i in range(ITEMS):
        n = f"{f}-{i}"
        items.append(
            f"<item><title>Законопроект об ИИ № {n}</title><link>https://scale.example/{n}</link>"
            f"<guid>scale-{n}</guid><description>{PARA.format(n=n) * 3}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>'
        f"F{f}</title>{''.join(items)}</channel></rss>"
    ).encode()


def _serve() -> tuple[ThreadingHTTPServer, str]:
    feeds = {f"/f/{f}.xml": _feed(f) for f in range(FEEDS)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = feeds.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _database() -> str:
    name = f"regwatch_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"


def _drop(url: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def _config(folder: Path, url: str, base: str) -> Path:
    cfg = folder / "config.toml"
    parts = [
        f'[database]\nurl = "{url}"',
        "[fetch]\nallow_networks = ['127.0.0.0/8']\nper_host_delay = 0\n"
        "per_host_concurrency = 16\ntimeout = 30.0",
        "[service]\nscheduler_tick_seconds = 0.5\ndispatch_seconds = 3600",
    ]
    parts += [
        f'[[sources]]\nname = "f{f}"\nurl = "{base}/f/{f}.xml"\ncountry = "kz"\n'
        for f in range(FEEDS)
    ]
    cfg.write_text("\n".join(parts), encoding="utf-8")
    return cfg


def _count(engine: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM documents")).scalar() or 0)


def _spawn(cfg: Path, *args: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "REGWATCH_DATABASE_URL"}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "regwatch.cli", "--config", str(cfg), *args],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )


def _cpu(procs: list[subprocess.Popen[bytes]]) -> float:
    """CPU seconds (user + system, all threads) the processes have used so far."""
    total = 0.0
    for p in procs:
        try:
            fields = Path(f"/proc/{p.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def measure(base: str, workers: int) -> tuple[float, float, float]:
    """(documents/s from the first document stored to the last, documents per CPU second of
    the measured processes over the same span, database bytes per stored document);
    ``workers`` 0 is the baseline, one `regwatch run --once`."""
    total = FEEDS * ITEMS
    url = _database()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            cfg = _config(folder, url, base)
            engine = create_engine(url)
            if workers == 0:
                procs.append(_spawn(cfg, "run", "--once", log=folder / "run.log"))
            else:
                # the workers start first and load their models; the scheduler then enqueues
                # every feed at once
                logs = [folder / f"w{i}.log" for i in range(workers)]
                procs += [_spawn(cfg, "worker", log=lg) for lg in logs]
                deadline = time.monotonic() + 300
                while not all(b"Starting worker" in lg.read_bytes() for lg in logs):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"workers did not start; see {logs}")
                    time.sleep(0.2)
                procs.append(_spawn(cfg, "scheduler", log=folder / "scheduler.log"))
            first = last = cpu_first = cpu_last = 0.0
            n_first = 0
            deadline = time.monotonic() + 900
            while True:
                try:
                    n = _count(engine)
                except Exception:  # the schema is not there yet
                    n = 0
                now = time.monotonic()
                if n and not first:
                    first, cpu_first, n_first = now, _cpu(procs), n
                if n >= total:
                    last, cpu_last = now, _cpu(procs)
                    break
                if now > deadline:
                    raise RuntimeError(f"only {n} of {total} documents stored; see {folder}")
                time.sleep(0.05)
            with engine.connect() as conn:
                size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
            engine.dispose()
            for p in procs:
                if p.poll() is None:
                    p.terminate()
                p.wait(60)
            per_cpu = (total - n_first) / max(cpu_last - cpu_first, 1e-6)
            rate = (total - n_first) / max(last - first, 1e-6)
            return rate, per_cpu, float(size or 0) / total
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(15)
        _drop(url)


def measure_queue(base: str, jobs: int = 1000) -> float:
    """Jobs/s through one worker for jobs that do next to nothing (a poll of a source the
    configuration does not have: looked up, logged, done) — the queue's own cost per job."""
    url = _database()
    proc: subprocess.Popen[bytes] | None = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            cfg = _config(folder, url, base)
            subprocess.run(
                [sys.executable, "-m", "regwatch.cli", "--config", str(cfg), "worker", "--init"],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            from regwatch.workers import make_app

            app = make_app(url)
            with app.open():
                empty: list[dict[str, Any]] = [{"source": "not-configured"}] * jobs
                app.configure_task("regwatch.poll").batch_defer(*empty)
            proc = _spawn(cfg, "worker", log=folder / "w.log")
            engine = create_engine(url)
            done = "SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'"
            first, at_first = 0.0, 0
            deadline = time.monotonic() + 600
            while True:
                with engine.connect() as conn:
                    n = int(conn.execute(text(done)).scalar() or 0)
                now = time.monotonic()
                if n and not first:
                    first, at_first = now, n
                if n >= jobs:
                    break
                if now > deadline:
                    raise RuntimeError(f"only {n} of {jobs} jobs done; see {folder}")
                time.sleep(0.05)
            engine.dispose()
            proc.terminate()
            proc.wait(60)
            return (jobs - at_first) / max(now - first, 1e-6)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(15)
        _drop(url)


def main() -> None:
    try:
        create_engine(PG_ADMIN, connect_args={"connect_timeout": 2}).connect().close()
    except Exception:
        print(f"scale: skipped (PostgreSQL not reachable at {PG_ADMIN})")
        return
    server, base = _serve()
    try:
        print(
            f"scale: {FEEDS} feeds x {ITEMS} items = {FEEDS * ITEMS} documents "
            f"(~{len(_feed(0)) * FEEDS / 1e6:.1f} MB), load {os.getloadavg()[0]:.1f}"
        )
        print(f"  queue overhead: {measure_queue(base):7.1f} empty jobs/s through one worker")
        baseline, base_cpu, per_doc = measure(base, 0)
        print(
            f"  regwatch run --once (baseline): {baseline:7.1f} documents/s, {base_cpu:6.1f} "
            f"per CPU second; the database takes {per_doc / 1024:.1f} KB per document"
        )
        for n in (1, 2, 3):
            rate, cpu, _ = measure(base, n)
            print(
                f"  {n} worker{'s' if n > 1 else ' '}:                    {rate:7.1f} "
                f"documents/s ({rate / baseline:4.2f}x), {cpu:6.1f} per CPU second "
                f"({cpu / base_cpu:4.2f}x)  (load {os.getloadavg()[0]:.1f})"
            )
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
