"""What every subcommand needs: settings, a migrated engine, the fetch policy, the flagger, the
outbox — each built here, from its config section, and nowhere else."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Engine

from regwatch.config import FetchConfig, NlpConfig, Settings, default_config_path, load

if TYPE_CHECKING:
    from regwatch.alerts.channels import Channels
    from regwatch.alerts.outbox import Outbox
    from regwatch.crawlers import Fetcher, FetchPolicy
    from regwatch.crawlers.fetch import Limiter
    from regwatch.nlp import Flagger
    from regwatch.store.evidence import EvidenceStore


def load_settings(args: argparse.Namespace) -> Settings:
    return load(args.config or default_config_path())


def fetch_policy(f: FetchConfig, *, record: bool = False) -> FetchPolicy:
    """The fetcher's policy from the [fetch] settings; ``record``: keep each exchange as a
    capture ([evidence] enabled)."""
    from regwatch.crawlers import FetchPolicy

    return FetchPolicy(
        user_agent=f.user_agent,
        timeout=f.timeout,
        max_bytes=f.max_bytes,
        max_redirects=f.max_redirects,
        allow_networks=f.allow_networks,
        per_host_concurrency=f.per_host_concurrency,
        per_host_delay=f.per_host_delay,
        record=record,
    )


def make_fetcher(s: Settings, limiter: Limiter | None = None) -> Fetcher:
    """The one fetcher, with each source's credentials (``auth_env``/``headers_env``) read
    from the environment now and sent only to that source's origin; ``limiter``: per-host
    slots shared beyond this process (``regwatch worker``), else the fetcher's own."""
    from regwatch.config.checks import source_headers
    from regwatch.crawlers import Fetcher
    from regwatch.crawlers.fetch import origin_of

    origins: dict[str, dict[str, str]] = {}
    for src in s.sources:
        headers = source_headers(src, os.environ)  # checked when the config was read
        if headers:
            origins.setdefault(origin_of(src.url), {}).update(headers)
    return Fetcher(
        fetch_policy(s.fetch, record=s.evidence.enabled), origin_headers=origins, limiter=limiter
    )


def make_evidence(s: Settings) -> EvidenceStore | None:
    """The evidence folder (evidence.dir, made absolute when the config was read), or None
    when evidence.enabled is off."""
    from regwatch.store.evidence import EvidenceStore

    return EvidenceStore(s.evidence.dir) if s.evidence.enabled else None


def evidence_folder(s: Settings) -> EvidenceStore:
    """The evidence folder whether or not new captures are kept (export, verify, prune)."""
    from regwatch.store.evidence import EvidenceStore

    return EvidenceStore(s.evidence.dir)


def make_flagger(nlp: NlpConfig, model: str | Literal["bundled"] | None = "bundled") -> Flagger:
    """The flagger from the [nlp] settings: the rules folder (empty: the bundled rules), the
    minimum score of a stored signal, and the learned stage's model (the bundled one unless a
    path is given; None: rules only)."""
    from regwatch.nlp import Flagger
    from regwatch.nlp.learned import DEFAULT_MODEL

    path = DEFAULT_MODEL if model == "bundled" else model
    return Flagger.from_folder(nlp.rules_dir or None, min_score=nlp.min_score, model=path)


def open_engine(settings: Settings, *, read: bool = False) -> Engine:
    """The database, migrated to the latest schema. A ``read`` command (query, export,
    status, …) refuses a SQLite file that is not there rather than create an empty one."""
    from regwatch.store import db

    if read:
        _must_exist(settings)
    engine = db.make_engine(settings.database.url)
    db.upgrade(engine)
    return engine


def open_reader(settings: Settings) -> Engine:
    """A read-only engine for the commands that only read (query, export, status, ...), after
    the schema check — which writes nothing when the schema is current. It never takes the
    write lock: on SQLite each transaction reads one WAL snapshot beside the writers, on
    PostgreSQL a read-only repeatable-read transaction. A SQLite file that is not there is
    refused, not created empty."""
    from regwatch.store import db

    open_engine(settings, read=True).dispose()
    return db.make_engine(settings.database.url, readonly=True)


def _must_exist(settings: Settings) -> None:
    from sqlalchemy.engine import make_url

    from regwatch.errors import StoreError

    url = make_url(settings.database.url)
    name = url.database or ""
    on_disk = url.get_backend_name() == "sqlite" and name not in ("", ":memory:")
    if on_disk and not os.path.exists(name):
        raise StoreError(
            f"store: database {name} does not exist (database.url in "
            f"{settings.path or 'config.toml'}, or $REGWATCH_DATABASE_URL); check the path, "
            "or create it with 'regwatch collect' or 'regwatch db upgrade'"
        )


def make_outbox(s: Settings, engine: Engine) -> Outbox:
    """The outbox, with its channels built here once: the secrets config names (SMTP
    password, webhook URLs) are read from the environment now and passed down as values."""
    from regwatch.alerts.outbox import Outbox, OutboxQueue, Sender

    channels = make_channels(s)
    queue = OutboxQueue(
        engine,
        subscriptions=s.subscriptions,
        channels=channels,
        delivery=s.delivery,
        digest=s.digest,
        sources={x.name for x in s.sources},
        ui_url=s.web.public_url,
    )
    return Outbox(queue, Sender(engine, channels, s.delivery))


def make_channels(s: Settings) -> Channels:
    """Every subscription's channels, the secrets config names read from the environment."""
    from regwatch.alerts.channels import build_channels

    return build_channels(
        s.subscriptions,
        s.smtp,
        webhook_timeout=s.fetch.timeout,
        allow_networks=s.fetch.allow_networks,
        env=os.environ,
    )


def redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def plural(n: int, noun: str, nouns: str = "") -> str:
    """``1 source``, ``2 sources``; ``nouns`` for an irregular plural."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"
