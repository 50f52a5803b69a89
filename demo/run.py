"""``regwatch demo``: serve the sample sites, collect → flag → store → digest, report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from regwatch.alerts.channels import build_channels
from regwatch.alerts.outbox import DispatchReport, Outbox, OutboxQueue, Sender
from regwatch.alerts.report import digest_for, write_digest
from regwatch.commands.common import fetch_policy, make_flagger
from regwatch.config import DigestConfig, FetchConfig, NlpConfig, Settings, load, load_sources
from regwatch.crawlers import Fetcher
from regwatch.demo.config import write_config
from regwatch.demo.mailbox import mailbox
from regwatch.demo.server import serve
from regwatch.pipeline import RunSummary, collect_sources
from regwatch.store import db
from regwatch.store.evidence import EvidenceStore
from regwatch.store.queries import counts

__all__ = ["FETCH", "SITE", "SOURCES", "DemoReport", "run_demo"]

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
        out = [f"demo sources served at {self.base_url}", f"sources: {r.sources_text()}"]
        out += [f"  {note}" for note in r.notes()]
        out += [
            f"{r.items_seen} items: {r.counts_text()}",
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
            f"database file: {self.out / 'regwatch.db'}; captures (WARC) of flagged documents in "
            f"{self.out / 'evidence'}",
            f"settings: {self.out / 'config.toml'} — next: make serve, or "
            f"regwatch --config {self.out / 'config.toml'} serve",
            f"outbox (as if it were {self.digest_due} UTC, the subscriptions' digest time): "
            f"{self.outbox.alerts_queued} alerts and {self.outbox.digests_queued} digests queued, "
            f"{self.outbox.sent} emailed, {self.outbox.failed} failed",
        ]
        if self.mail:
            out.append(f"  {len(self.mail)} messages filed in {self.mail[0].parent} (.eml)")
        else:
            out.append("  no mail: every alert and today's digests were sent on an earlier run")
        return out


# The bundled sites are served on this machine: no politeness delay between requests.
FETCH = FetchConfig(
    user_agent="regwatch-demo/0.1",
    timeout=10.0,
    allow_networks=("127.0.0.0/8",),
    per_host_delay=0.0,
)


def run_demo(out: Path) -> DemoReport:
    """Everything with the settings' defaults, but for :data:`FETCH` and the subscriptions."""
    out.mkdir(parents=True, exist_ok=True)
    engine = db.make_engine(f"sqlite:///{(out / 'regwatch.db').resolve()}")
    try:
        db.upgrade(engine)
        with db.session_scope(engine) as session:
            before = counts(session)
        flagger = make_flagger(NlpConfig())
        # Captures go where the written config.toml's evidence.dir (empty) puts them: beside
        # the database, so `regwatch --config OUT/config.toml evidence verify` checks them.
        evidence = EvidenceStore(out / "evidence")
        with serve(SITE) as base, Fetcher(fetch_policy(FETCH, record=True)) as fetcher:
            sources = load_sources(SOURCES, base)
            summary = collect_sources(engine, flagger, fetcher, sources, evidence=evidence)
        now = datetime.now(UTC) + timedelta(seconds=1)
        dc = DigestConfig()
        digest = digest_for(
            engine,
            now,
            dc.window_hours,
            dc.max_items_per_category,
            dc.min_score,
            sources={s.name for s in sources},
        )
        write_digest(digest, out / "digest.html", out / "digest.txt")
        due = now + timedelta(minutes=2)
        with mailbox(out / "mail") as inbox:
            config = write_config(out, SOURCES, base, inbox.port, f"{due:%H:%M}")
            settings = load(config, env={})
            report = _outbox(engine, settings).dispatch(due + timedelta(minutes=1))
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


def _outbox(engine: Engine, s: Settings) -> Outbox:
    """The outbox of the written config.toml: its two teams, mail to the loopback inbox."""
    # no webhooks and no secrets in the demo
    channels = build_channels(
        s.subscriptions, s.smtp, webhook_timeout=10.0, allow_networks=("127.0.0.0/8",), env={}
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
