"""What every subcommand needs: settings, a migrated engine, the fetch policy, the flagger, the
outbox — each built here, from its config section, and nowhere else."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Engine

from regwatch.config import FetchConfig, NlpConfig, Settings, default_config_path, load

if TYPE_CHECKING:
    from regwatch.alerts.outbox import Outbox
    from regwatch.crawlers import FetchPolicy
    from regwatch.nlp import Flagger


def load_settings(args: argparse.Namespace) -> Settings:
    return load(args.config or default_config_path())


def fetch_policy(f: FetchConfig) -> FetchPolicy:
    """The fetcher's policy from the [fetch] settings."""
    from regwatch.crawlers import FetchPolicy

    return FetchPolicy(
        user_agent=f.user_agent,
        timeout=f.timeout,
        max_bytes=f.max_bytes,
        max_redirects=f.max_redirects,
        allow_private_networks=f.allow_private_networks,
        per_host_concurrency=f.per_host_concurrency,
        per_host_delay=f.per_host_delay,
    )


def make_flagger(nlp: NlpConfig, model: str | Literal["bundled"] | None = "bundled") -> Flagger:
    """The flagger from the [nlp] settings: the rules folder (empty: the bundled rules), the
    minimum score of a stored signal, and the learned stage's model (the bundled one unless a
    path is given; None: rules only)."""
    from regwatch.nlp import Flagger
    from regwatch.nlp.learned import DEFAULT_MODEL

    path = DEFAULT_MODEL if model == "bundled" else model
    return Flagger.from_folder(nlp.rules_dir or None, min_score=nlp.min_score, model=path)


def open_engine(settings: Settings) -> Engine:
    from regwatch.store import db

    engine = db.make_engine(settings.database.url)
    db.upgrade(engine)
    return engine


def make_outbox(s: Settings, engine: Engine) -> Outbox:
    """The outbox, with its channels built here once: the secrets config names (SMTP
    password, webhook URLs) are read from the environment now and passed down as values."""
    from regwatch.alerts.channels import build_channels
    from regwatch.alerts.outbox import Outbox, OutboxQueue, Sender

    channels = build_channels(
        s.subscriptions,
        s.smtp,
        webhook_timeout=s.fetch.timeout,
        allow_private_networks=s.fetch.allow_private_networks,
        env=os.environ,
    )
    queue = OutboxQueue(
        engine,
        subscriptions=s.subscriptions,
        channels=channels,
        delivery=s.delivery,
        digest=s.digest,
        sources={x.name for x in s.sources},
    )
    return Outbox(queue, Sender(engine, channels, s.delivery))


def redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
