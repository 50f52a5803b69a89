"""Real delivery endpoints on 127.0.0.1: an SMTP server (aiosmtpd, plain, STARTTLS or SSL,
with or without login) and an HTTP webhook receiver; and a store seeded through ingest()."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine

from regwatch.alerts.channels import build_channels
from regwatch.alerts.outbox import Outbox, OutboxQueue, Sender
from regwatch.config import DeliveryConfig, DigestConfig, SmtpConfig, SubscriptionConfig
from regwatch.crawlers import Document
from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store.models import utcnow
from regwatch.store.sources import SourceSpec, sync_sources
from tests.conftest import ingest_one

USER, PASSWORD = "regwatch", "s3cret-pass"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Inbox:
    """aiosmtpd handler: keeps what it receives; can answer with an error instead."""

    messages: list[Received] = field(default_factory=list)
    fail_with: str | None = None
    on_data: Callable[[], None] | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail_with:
            return self.fail_with
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        if self.on_data is not None:
            self.on_data()
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int
    controller: Controller
    ca_file: str = ""
    security: str = "none"
    running: bool = True

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.controller.stop()

    def config(self, **kw: Any) -> SmtpConfig:
        base: dict[str, Any] = dict(
            host="127.0.0.1",
            port=self.port,
            security="none",
            sender="regwatch@watch.example.org",
            timeout=5.0,
            ca_file=self.ca_file,
        )
        base.update(kw)
        return SmtpConfig(**base)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A plain SMTP server (the local-relay case)."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    server = SmtpServer(inbox, port, controller)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, str]:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


@pytest.fixture(params=["starttls", "ssl"])
def smtp_tls(
    request: pytest.FixtureRequest, tls_ca: tuple[trustme.CA, str]
) -> Iterator[SmtpServer]:
    """An SMTP server that demands TLS (STARTTLS or implicit SSL) and a login."""
    ca, ca_file = tls_ca
    inbox, port = Inbox(), free_port()
    ctx = _server_context(ca)
    kw: dict[str, Any] = dict(authenticator=_authenticate, auth_require_tls=True)
    if request.param == "starttls":
        kw.update(tls_context=ctx, require_starttls=True)
    else:  # aiosmtpd only counts STARTTLS as TLS for auth_require_tls; here all of it is TLS
        kw.update(ssl_context=ctx, auth_require_tls=False)
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, server_hostname="127.0.0.1", **kw
    )
    controller.start()
    server = SmtpServer(inbox, port, controller, ca_file, request.param)
    yield server
    server.stop()


@dataclass
class Hook:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST; ``status`` sets its answer."""

    def __init__(self) -> None:
        self.received: list[Hook] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.status < 300:
                    receiver.received.append(Hook(self.path, dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


# ----------------------------------------------------------------------------- store data

TEXTS = {
    "kz": (
        "Министерство опубликовало законопроект об искусственном интеллекте. "
        "Документ вводит понятие цифровой безопасности для регулирования ИИ."
    ),
    "tj": (
        "The government of Tajikistan proposed a regional AI Center in Dushanbe to "
        "coordinate artificial intelligence rules across Central Asia."
    ),
    "uz": (
        "Uzbekistan's parliament discussed a draft law requiring personal data of citizens "
        "to be stored on servers located in Uzbekistan."
    ),
}


@dataclass
class Seeded:
    started: datetime  # just before anything was ingested
    doc_ids: dict[str, int]


def seed(engine: Engine, flagger: Flagger, titles: dict[str, str] | None = None) -> Seeded:
    """Three documents from three sources (kz official ru, tj news en, uz news en)."""
    started = utcnow()
    titles = titles or {}
    with db.session_scope(engine) as s:
        sync_sources(
            s,
            [
                SourceSpec("kz-gov", "https://gov.kz/rss", "rss", "kz", ("ru",), "official"),
                SourceSpec(
                    "asia-news", "https://news.example/rss", "rss", "regional", ("en",), "news"
                ),
                SourceSpec("uz-news", "https://uz.example/rss", "rss", "uz", ("en",), "news"),
            ],
        )
    sources = {"kz": "kz-gov", "tj": "asia-news", "uz": "uz-news"}
    doc_ids = {}
    for key, text in TEXTS.items():
        doc = Document(
            url=f"https://{key}.example/news/1",
            title=titles.get(key, f"News from {key}: AI rules under discussion"),
            text=text,
            source=sources[key],
        )
        doc_ids[key] = ingest_one(engine, flagger, doc).document_id
    return Seeded(started, doc_ids)


def subscription(**kw: Any) -> SubscriptionConfig:
    base: dict[str, Any] = dict(
        name="gr-team",
        recipients=("analyst@example.org", "lead@example.org"),
        timezone="UTC",
        alert_threshold=0.85,
        # half a day away: tests about alerts see no digest unless they ask for one
        digest_time=(utcnow() + timedelta(hours=12)).strftime("%H:%M"),
    )
    base.update(kw)
    if isinstance(base["digest_time"], str):  # HH:MM, as in config.toml
        base["digest_time"] = time.fromisoformat(base["digest_time"])
    for key in ("recipients", "categories", "countries", "tiers", "languages", "webhooks"):
        if key in base and isinstance(base[key], list):
            base[key] = tuple(base[key])
    return SubscriptionConfig(**base)


def outbox(
    engine: Engine,
    smtp: SmtpConfig,
    *subs: SubscriptionConfig,
    allow_networks: tuple[str, ...] = ("127.0.0.0/8",),
    env: dict[str, str] | None = None,
    delivery: DeliveryConfig | None = None,
    digest: DigestConfig | None = None,
    webhook_timeout: float = 5.0,
    ui_url: str = "",
) -> Outbox:
    """An outbox over ``subs``, built as the edge builds one."""
    channels = build_channels(
        subs,
        smtp,
        webhook_timeout=webhook_timeout,
        allow_networks=allow_networks,
        env=env or {},
    )
    delivery = delivery or delivery_config()
    queue = OutboxQueue(
        engine,
        subscriptions=subs,
        channels=channels,
        delivery=delivery,
        digest=digest or digest_config(),
        ui_url=ui_url,
    )
    return Outbox(queue, Sender(engine, channels, delivery))


def due_after(started: datetime, hours: int = 6) -> tuple[str, datetime]:
    """A digest_time ``hours`` after ``started`` (UTC), and a moment just after it."""
    at = started + timedelta(hours=hours)
    return at.strftime("%H:%M"), at + timedelta(minutes=30)


def digest_config(**kw: Any) -> DigestConfig:
    return DigestConfig(**kw)


def delivery_config(**kw: Any) -> DeliveryConfig:
    base: dict[str, Any] = dict(max_attempts=3, retry_seconds=60)
    base.update(kw)
    return DeliveryConfig(**base)


def write_file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
