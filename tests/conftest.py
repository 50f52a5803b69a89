"""Shared fixtures: real loopback HTTP servers, and databases on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from regwatch.crawlers import Document
from regwatch.nlp import Flagger
from regwatch.pipeline import IngestResult, ingest
from regwatch.store import db

PG_ADMIN_URL = os.environ.get(
    "REGWATCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI") == "true"

Route = tuple[int, dict[str, str], bytes]
# A dynamic route gets the request's headers (names in lower case).
DynamicRoute = Callable[[dict[str, str]], Route]


def ingest_one(engine: Engine, flagger: Flagger, doc: Document) -> IngestResult:
    """``doc`` alone through the one ingest path: its result (what kept it out is raised)."""
    [(_, result)] = ingest(engine, flagger, [doc])
    if isinstance(result, Exception):
        raise result
    return result


class LocalSite:
    """A real HTTP server on 127.0.0.1 answering from a dict of path -> (status, headers, body)
    or path -> function of the request headers returning one. ``requests`` keeps every
    request's path and headers in order."""

    def __init__(self) -> None:
        self.routes: dict[str, Route | DynamicRoute] = {}
        self.hits: list[str] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.hits.append(self.path)
                sent = {k.lower(): v for k, v in self.headers.items()}
                site.requests.append((self.path, sent))
                route = site.routes.get(self.path)
                if route is None:
                    status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found"
                else:
                    status, headers, body = route(sent) if callable(route) else route
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def add(
        self,
        path: str,
        body: bytes | str,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        **extra: str,
    ) -> str:
        data = body.encode() if isinstance(body, str) else body
        data = data.replace(b"__BASE__", self.base.encode())
        self.routes[path] = (
            status,
            {"Content-Type": content_type, **(headers or {}), **extra},
            data,
        )
        return self.base + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site() -> Iterator[LocalSite]:
    s = LocalSite()
    yield s
    s.close()


def _pg_available() -> bool:
    try:
        eng = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each engine (PostgreSQL: a throwaway database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    if not _pg_available():
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; CI must start it")
        pytest.skip(
            f"PostgreSQL not reachable at {PG_ADMIN_URL}; start it or set "
            "REGWATCH_TEST_PG_URL to run the PostgreSQL half of the store tests"
        )
    name = f"regwatch_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = db.make_engine(db_url)
    db.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def flagger() -> Flagger:
    return Flagger.from_folder(min_score=0.3)


def spawn_python(code: str, *args: str) -> subprocess.Popen[str]:
    """``python -c code args…`` from the repository root, its stdin/stdout/stderr piped (text):
    a real second process, to be killed mid-way by the test."""
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=Path(__file__).resolve().parents[1],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
