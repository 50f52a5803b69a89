"""What the worker tests share: feeds on several loopback hosts (127.0.0.1, 127.0.0.2, …, all
on the loopback interface) whose servers log every request's time, and real `regwatch worker`
/ `regwatch scheduler` processes started, killed and stopped by the test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]

ITEM = (
    "<item><title>{title}</title><link>{base}/doc/{source}/{n}</link>"
    "<guid>{base}/doc/{source}/{n}</guid><description>{text}</description></item>"
)
STRONG = (
    "Законопроект об искусственном интеллекте № {n}",
    "Министерство цифрового развития внесло законопроект об искусственном интеллекте № {n} "
    "и проект постановления о данных.",
)
PLAIN = ("Погода в регионе, выпуск {n}", "Синоптики обещают ясную погоду и слабый ветер.")


def feed(base: str, source: str, items: int, strong_every: int = 0) -> bytes:
    """An RSS feed of ``items`` entries, every ``strong_every``-th one about an AI bill."""
    out = []
    for n in range(items):
        title, body = STRONG if strong_every and n % strong_every == 0 else PLAIN
        out.append(
            ITEM.format(
                title=title.format(n=f"{source}-{n}"),
                base=base,
                source=source,
                n=n,
                text=body.format(n=f"{source}-{n}"),
            )
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>'
        f"{source}</title>{''.join(out)}</channel></rss>"
    ).encode()


@dataclass
class Hit:
    host: str
    path: str
    start: float  # time.time() when the request arrived


@dataclass
class Hosts:
    """One HTTP server per loopback address; ``hits`` logs every request in arrival order."""

    count: int
    feeds: dict[tuple[str, str], bytes] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    _servers: list[ThreadingHTTPServer] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        hosts = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host = str(self.server.server_address[0])  # type: ignore[index]
                with hosts._lock:
                    hosts.hits.append(Hit(str(host), self.path, time.time()))
                body = hosts.feeds.get((str(host), self.path))
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                return

        for i in range(self.count):
            server = ThreadingHTTPServer((f"127.0.0.{i + 1}", 0), Handler)
            server.daemon_threads = True
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            ).start()
            self._servers.append(server)

    def base(self, i: int) -> str:
        host, port = self._servers[i].server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        for s in self._servers:
            s.shutdown()
            s.server_close()

    def snapshot(self) -> list[Hit]:
        with self._lock:
            return list(self.hits)


def write_config(
    path: Path,
    db_url: str,
    sources: list[tuple[str, str]],  # (name, url)
    *,
    per_host_delay: float = 0.2,
    interval_minutes: int = 1,
    extra: str = "",
) -> Path:
    lines = [
        f'[database]\nurl = "{db_url}"',
        "[fetch]\nallow_networks = ['127.0.0.0/8']\ntimeout = 10.0\n"
        f"per_host_concurrency = 1\nper_host_delay = {per_host_delay}",
        "[service]\ndispatch_seconds = 1\nscheduler_tick_seconds = 0.5\n"
        "worker_heartbeat_seconds = 0.5\nworker_stalled_seconds = 3",
        extra,
    ]
    for name, url in sources:
        lines.append(
            f'[[sources]]\nname = "{name}"\nurl = "{url}"\ncountry = "kz"\n'
            f"interval_minutes = {interval_minutes}\n"
        )
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class Fleet:
    """Worker and scheduler processes on one configuration; logs go to files beside it."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}
        self._n = 0

    def start(self, role: str, name: str) -> subprocess.Popen[bytes]:
        self._n += 1
        path = self.config.parent / f"{name}.{self._n}.log"
        self.logs[name] = path
        log = path.open("wb")
        env = {k: v for k, v in os.environ.items() if k != "REGWATCH_DATABASE_URL"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "regwatch.cli", "--config", str(self.config), role],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()
        self.procs[name] = proc
        return proc

    def up(self, name: str) -> bool:
        """Whether ``name``'s current process is running and has started taking jobs."""
        if self.procs[name].poll() is not None:
            return False
        return b"Starting worker" in self.logs[name].read_bytes()

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(15)

    def stop_all(self) -> list[int]:
        codes = []
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                codes.append(proc.wait(30))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes.append(proc.wait(15))
        return codes


def scalar(db_url: str, sql: str, **params: Any) -> Any:
    eng = create_engine(db_url)
    try:
        with eng.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        eng.dispose()


def wait_until(predicate: Any, timeout: float, what: str, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
