"""``regwatch demo``: serve the sample sites, collect → flag → store → digest, report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from regwatch.alerts.channels import build_channels
from regwatch.alerts.outbox import DispatchReport, Outbox, OutboxQueue, Sender
from regwatch.alerts.report import digest_for, write_digest
from regwatch.config import (
    DeliveryConfig,
    DigestConfig,
    SmtpConfig,
    SubscriptionConfig,
    load_sources,
)
from regwatch.crawlers import Fetcher, FetchPolicy
from regwatch.demo.mailbox import mailbox
from regwatch.demo.server import serve
from regwatch.nlp import Flagger
from regwatch.pipeline import RunSummary, collect_sources
from regwatch.store import db
from regwatch.store.queries import counts

__all__ = ["SITE", "SOURCES", "DemoReport", "run_demo"]

SITE = Path(__file__).parent / "site"
SOURCES = Path(__file__).parent / "sources.toml"


@dataclass(frozen=True)
class DemoReport:
    out: Path
    base_url: str
    run: RunSummary
    before: dict[str, int]
    after: dict[str, int]
    digest_items: int
    outbox: DispatchReport
    mail: list[Path]
    digest_due: str

    def lines(self) -> list[str]:
        r, a = self.run, self.after
        o = r.outcomes
        out = [
            f"demo sources served at {self.base_url}",
            f"sources: {r.sources_ok} ok, {r.sources_failed} failed",
        ]
        out += [f"  {name} failed: {err}" for name, err in r.errors.items()]
        out += [
            f"items: {r.items_seen} seen — {o['new']} new, {o['updated']} updated, "
            f"{o['unchanged']} unchanged, {o['duplicate']} duplicates of stored documents",
            f"signals: {r.signals_new} new this run",
            f"database: {a['sources']} sources, {a['documents']} documents, {a['signals']} signals",
        ]
        out += [
            f"  {k.removeprefix('signals.')}: {v}" for k, v in a.items() if k.startswith("signals.")
        ]
        if not r.stored_anything:
            out.append("nothing new stored: every item was already in the database")
        out += [
            f"digest: {self.digest_items} items → {self.out / 'digest.html'}, "
            f"{self.out / 'digest.txt'}",
            f"database file: {self.out / 'regwatch.db'}",
            f"outbox (as if it were {self.digest_due} UTC, the subscriptions' digest time): "
            f"{self.outbox.alerts_queued} alerts and {self.outbox.digests_queued} digests queued, "
            f"{self.outbox.sent} emailed, {self.outbox.failed} failed",
        ]
        if self.mail:
            out.append(f"  {len(self.mail)} messages filed in {self.mail[0].parent} (.eml)")
        else:
            out.append("  no mail: every alert and today's digests were sent on an earlier run")
        return out


def run_demo(
    out: Path,
    *,
    window_hours: int = 24,
    max_items: int = 20,
    min_score: float = 0.3,
    digest_min_score: float = 0.5,
) -> DemoReport:
    out.mkdir(parents=True, exist_ok=True)
    engine = db.make_engine(f"sqlite:///{(out / 'regwatch.db').resolve()}")
    try:
        db.upgrade(engine)
        with db.session_scope(engine) as session:
            before = counts(session)
        flagger = Flagger.from_folder(min_score=min_score)
        policy = FetchPolicy(
            user_agent="regwatch-demo/0.1", timeout=10.0, allow_private_networks=True
        )
        with serve(SITE) as base, Fetcher(policy) as fetcher:
            sources = load_sources(SOURCES, base)
            summary = collect_sources(engine, flagger, fetcher, sources)
        now = datetime.now(UTC) + timedelta(seconds=1)
        digest = digest_for(
            engine,
            now,
            window_hours,
            max_items,
            digest_min_score,
            sources={s.name for s in sources},
        )
        write_digest(digest, out / "digest.html", out / "digest.txt")
        due = now + timedelta(minutes=2)
        with mailbox(out / "mail") as inbox:
            report = _outbox(engine, inbox.port, due, {s.name for s in sources}).dispatch(
                due + timedelta(minutes=1)
            )
        with db.session_scope(engine) as session:
            after = counts(session)
    finally:
        engine.dispose()
    return DemoReport(
        out,
        base,
        summary,
        before,
        after,
        digest.item_count,
        report,
        inbox.received,
        f"{due:%H:%M}",
    )


def _outbox(engine: Engine, port: int, due: datetime, sources: set[str]) -> Outbox:
    """Two teams: the whole region by category, and a Kazakhstan desk by country."""
    at = f"{due:%H:%M}"
    subscriptions = [
        SubscriptionConfig(
            name="gr-central-asia",
            recipients=("gr-team@demo.invalid",),
            timezone="UTC",
            digest_time=at,
            alert_threshold=0.95,
        ),
        SubscriptionConfig(
            name="kz-desk",
            recipients=("kz-desk@demo.invalid",),
            countries=("kz",),
            group_by="country",
            timezone="UTC",
            digest_time=at,
            immediate_alerts=False,
        ),
    ]
    smtp = SmtpConfig(host="127.0.0.1", port=port, security="none", sender="regwatch@demo.invalid")
    # no webhooks and no secrets in the demo
    channels = build_channels(
        subscriptions, smtp, webhook_timeout=10.0, allow_private_networks=True, env={}
    )
    queue = OutboxQueue(
        engine,
        subscriptions=subscriptions,
        channels=channels,
        delivery=DeliveryConfig(),
        digest=DigestConfig(),
        sources=sources,
    )
    return Outbox(queue, Sender(engine, channels, DeliveryConfig()))
