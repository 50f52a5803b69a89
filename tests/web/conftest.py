"""A store seeded once per engine through ingest() — Russian and English documents from four
sources over several weeks, a document with two versions and one with hostile text — for the
web app's tests. The app only reads, so the tests of a module share it."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import create_engine, text, update

from regwatch.crawlers import Document
from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store.models import Document as DocumentRow
from regwatch.store.models import Signal, utcnow
from regwatch.store.sources import SourceSpec, sync_sources
from regwatch.web import WebOptions, create_app
from tests.conftest import IN_CI, PG_ADMIN_URL, _pg_available, ingest_one

EVIL = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>{{7*7}}'

SOURCES = (
    SourceSpec("kz-gov", "https://kz-gov.example/rss", "rss", "kz", ("ru",), "official"),
    SourceSpec("asia", "https://asia.example/rss", "rss", "regional", ("en",), "news"),
    SourceSpec("uz-news", "https://uz-news.example/rss", "rss", "uz", ("en",), "news"),
    SourceSpec("evil", "https://evil.example/rss", "rss", "tj", ("en",), "analysis"),
)
KZ_V1 = (
    "Министерство опубликовало законопроект об искусственном интеллекте.\n"
    "Документ вводит понятие цифровой безопасности для регулирования ИИ."
)
KZ_V2 = KZ_V1 + "\nОбщественное обсуждение законопроекта продлится до 1 декабря."
DOCS = (  # (source, path, title, text, weeks ago)
    ("kz-gov", "/1", "Законопроект об ИИ", KZ_V1, 0),
    ("asia", "/1", "Dushanbe AI Center",
     "The government of Tajikistan proposed a regional AI Center in Dushanbe to coordinate "
     "artificial intelligence rules across Central Asia.", 1),
    ("uz-news", "/1", "Data law",
     "Uzbekistan's parliament discussed a draft law requiring personal data of citizens to be "
     "stored on servers located in Uzbekistan.", 3),
    ("evil", "/1", EVIL + " Dushanbe",
     f"The government of Tajikistan proposed a regional AI Center in Dushanbe {EVIL} with its "
     "neighbours.", 3),
)  # fmt: skip


@dataclass(frozen=True)
class Seeded:
    url: str
    doc_ids: dict[str, int]  # by source name
    engine_name: str


def seed(url: str, flagger: Flagger) -> dict[str, int]:
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.session_scope(engine) as s:
        sync_sources(s, SOURCES)
    doc_ids: dict[str, int] = {}
    now = utcnow()
    for source, path, title, body, weeks in DOCS:
        doc = Document(url=f"https://{source}.example{path}", title=title, text=body, source=source)
        doc_ids[source] = ingest_one(engine, flagger, doc).document_id
        with db.session_scope(engine) as s:
            s.execute(
                update(Signal)
                .where(Signal.document_id == doc_ids[source])
                .values(detected_at=now - timedelta(weeks=weeks, hours=1))
            )
    changed = Document(url="https://kz-gov.example/1", title="Законопроект об ИИ", text=KZ_V2,
                       source="kz-gov")  # fmt: skip
    assert ingest_one(engine, flagger, changed).outcome.value == "updated"
    with db.session_scope(engine) as s:  # a link no browser may follow
        s.get_one(DocumentRow, doc_ids["evil"]).url = "javascript:window.__pwned=3"
    engine.dispose()
    return doc_ids


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, flagger: Flagger
) -> Iterator[Seeded]:
    if request.param == "sqlite":
        path = Path(tmp_path_factory.mktemp("web")) / "web.db"
        url = f"sqlite:///{path}"
        yield Seeded(url, seed(url, flagger), "sqlite")
        return
    if not _pg_available():
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; CI must start it")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}; start it or set "
                    "REGWATCH_TEST_PG_URL")  # fmt: skip
    name = f"regwatch_web_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        yield Seeded(url, seed(url, flagger), "postgresql")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class LiveServer:
    """The app served by a real uvicorn on a free port of 127.0.0.1, in a thread."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                lifespan="off")  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start on 127.0.0.1")
            self.thread.join(0.02)  # waits for the thread; returns at once when it ends
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@contextmanager
def serve(url: str, options: WebOptions | None = None) -> Iterator[LiveServer]:
    engine = db.make_engine(url, readonly=True)
    server = LiveServer(create_app(engine, options))
    try:
        yield server
    finally:
        server.close()
        engine.dispose()


@pytest.fixture(scope="module")
def live(seeded: Seeded) -> Iterator[LiveServer]:
    with serve(seeded.url) as server:
        yield server


@pytest.fixture(scope="module")
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base, timeout=30) as client:
        yield client
