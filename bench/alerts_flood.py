"""An alert flood: 10,000 strong signals arrive at once (one poll of a 10,000-item feed) and
the outbox delivers every subscription's alerts, its bundled "N more strong signals" message
and its digest to a real SMTP server (aiosmtpd) on 127.0.0.1 — checked: the digest first,
nothing twice.

Baselines measured in the same run:

* the per-message path the flood used to take: one alert queued, rendered and sent per story
  (measured uncapped on ``REGWATCH_BENCH_SAMPLE`` stories) plus one TLS context built per
  message (measured), times the flood's stories per subscription — what the flood would have
  cost without the cap, against what it costs now;
* story grouping: every pair of same-day titles compared (the old way, on a sample, since on
  10,001 titles it took 192 s) against the title index on the same sample;
* an incremental dispatch with nothing new against the first, full one.
"""

from __future__ import annotations

import os
import random
import socket
import ssl
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import Engine, insert

from regwatch.alerts.channels import build_channels
from regwatch.alerts.digest import near, near_pairs
from regwatch.alerts.outbox import Outbox, OutboxQueue, Sender
from regwatch.config import DeliveryConfig, DigestConfig, SmtpConfig, SubscriptionConfig
from regwatch.store import db
from regwatch.store import models as m
from regwatch.store.sources import SourceSpec, sync_sources

__all__ = ["main"]

SIGNALS = int(os.environ.get("REGWATCH_BENCH_FLOOD", "10000"))
SAMPLE = int(os.environ.get("REGWATCH_BENCH_SAMPLE", "300"))
CATEGORIES = (
    "ai_governance_body", "content_control", "data_localization", "digital_security",
    "draft_instrument", "dushanbe_ai_center", "regional_cooperation", "risk_classification",
    "surveillance_biometrics",
)  # fmt: skip
SYLLABLES = (
    "ка", "за", "хс", "тан", "про", "ект", "ин", "тел", "лект", "циф", "ро", "вой", "бе", "зо",
    "пас", "ность", "да", "нные", "ми", "нис",
)  # fmt: skip


def vocabulary(n: int = 4000) -> tuple[list[str], list[float]]:
    """Words of a news vocabulary and Zipf weights: a few common, most rare."""
    rng = random.Random(5)
    words = sorted({"".join(rng.sample(SYLLABLES, rng.randint(2, 4))) for _ in range(n * 2)})
    rng.shuffle(words)
    return words[:n], [1 / (rank + 1) for rank in range(min(n, len(words)))]


WORDS, WEIGHTS = vocabulary()


def headline(rng: random.Random, n: int = 8) -> list[str]:
    return rng.choices(WORDS, WEIGHTS, k=n)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 Message accepted"


def flood(engine: Engine, n: int, at: datetime) -> None:
    """``n`` documents with one strong signal each, detected at ``at``, in one transaction."""
    rng = random.Random(n)
    with db.session_scope(engine) as s:
        source = sync_sources(
            s, [SourceSpec("flood", "https://f.example/rss", "rss", "kz", ("ru",), "official")]
        )["flood"]
    docs, versions, signals = [], [], []
    for i in range(1, n + 1):
        title = f"{i} " + " ".join(headline(rng))
        category = CATEGORIES[i % len(CATEGORIES)]
        docs.append({"id": i, "source_id": source, "url": f"https://f.example/{i}",
                     "canonical_url": f"https://f.example/{i}", "title": title, "lang": "ru",
                     "published_at": at - timedelta(hours=i % 48), "content_hash": f"h{i}",
                     "version": 1})  # fmt: skip
        versions.append({"id": i, "document_id": i, "version": 1, "title": title,
                         "text": title, "content_hash": f"h{i}", "fetched_at": at})  # fmt: skip
        signals.append({"document_id": i, "version_id": i, "source_id": source,
                        "mentions": ",kz,", "category": category, "rule": f"{category}.r",
                        "field": "text", "text": "закон", "start": 0, "end": 5,
                        "sentence": f"{title}: закон", "score": 0.9 + (i % 10) / 100,
                        "reason": "bench", "lang": "ru", "countries": ["kz"], "bodies": [],
                        "attributes": {}, "detected_at": at})  # fmt: skip
    with engine.begin() as conn:
        ids = m.combo_ids(conn, {(c, "ru", source, ",kz,") for c in CATEGORIES})
        for r in signals:
            r["combo_id"] = ids[(str(r["category"]), "ru", source, ",kz,")]
        conn.execute(insert(m.Document), docs)
        conn.execute(insert(m.DocumentVersion), versions)
        conn.execute(insert(m.Signal), signals)


def subscriptions(due: datetime) -> list[SubscriptionConfig]:
    at = clock(due.hour, due.minute)
    base: dict[str, Any] = dict(timezone="UTC", digest_time=at, alert_threshold=0.85)
    return [
        SubscriptionConfig(name="everything", recipients=("gr@example.org",), **base),
        SubscriptionConfig(
            name="draft-laws", recipients=("law@example.org",), categories=("draft_instrument",),
            **base,
        ),
        SubscriptionConfig(
            name="kz-desk", recipients=("kz@example.org", "lead@example.org"),
            countries=("kz",), **base,
        ),
    ]  # fmt: skip


def make_outbox(engine: Engine, port: int, subs: list[SubscriptionConfig], per_hour: int) -> Outbox:
    smtp = SmtpConfig(host="127.0.0.1", port=port, security="none", sender="rw@bench.example")
    channels = build_channels(
        subs, smtp, webhook_timeout=5.0, allow_networks=("127.0.0.0/8",), env={}
    )
    delivery = DeliveryConfig(alerts_per_hour=per_hour)
    queue = OutboxQueue(
        engine, subscriptions=subs, channels=channels, delivery=delivery, digest=DigestConfig()
    )
    return Outbox(queue, Sender(engine, channels, delivery))


def drain(box: Outbox, now: datetime) -> tuple[float, int]:
    """Dispatch until nothing is due: (seconds, messages sent)."""
    started, sent = time.perf_counter(), 0
    report = box.dispatch(now)
    sent += report.sent
    while report.sent:
        report = box.deliver(now)
        sent += report.sent
    return time.perf_counter() - started, sent


def check(messages: list[bytes], subs: list[SubscriptionConfig]) -> dict[str, list[str]]:
    """Per subscription, its subjects in the order received; nothing received twice."""
    ids = [message_from_bytes(b, policy=policy.default)["Message-ID"] for b in messages]
    assert len(ids) == len(set(ids)), "a message was sent twice"
    by_sub: dict[str, list[str]] = defaultdict(list)
    for b, mid in zip(messages, ids, strict=True):
        by_sub[str(mid).split(".")[2]].append(
            str(message_from_bytes(b, policy=policy.default)["Subject"])
        )
    for sub in subs:
        got = by_sub[sub.name]
        assert got and got[0].startswith(f"regwatch · {sub.name}"), f"{sub.name}: digest first"
    return by_sub


def grouping(n: int) -> tuple[float, float, float]:
    """Seconds to find near-identical titles among ``n``: all pairs, the index, and the index
    on the whole flood."""
    rng = random.Random(3)
    titles = [frozenset([str(i), *headline(rng)]) for i in range(SIGNALS + 1)]
    sample = titles[:n]
    t = time.perf_counter()
    brute = [(i, j) for i in range(n) for j in range(i + 1, n) if near(sample[i], sample[j])]
    pairs = time.perf_counter() - t
    t = time.perf_counter()
    assert near_pairs(sample) == brute
    index = time.perf_counter() - t
    t = time.perf_counter()
    near_pairs(titles)
    return pairs, index, time.perf_counter() - t


def main() -> None:
    inbox = Inbox()
    with socket.socket() as probe:  # a free port on loopback
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # the flood, capped and bundled
            engine = db.make_engine(f"sqlite:///{Path(tmp) / 'flood.db'}")
            db.upgrade(engine)
            flood(engine, SIGNALS, now - timedelta(minutes=10))
            subs = subscriptions(now - timedelta(minutes=1))
            box = make_outbox(engine, port, subs, per_hour=10)
            flood_s, sent = drain(box, now)
            by_sub = check(inbox.messages, subs)
            assert box.dispatch(now + timedelta(minutes=1)).sent == 0  # catches up its memory
            t = time.perf_counter()
            assert box.dispatch(now + timedelta(minutes=2)).sent == 0
            idle_s = time.perf_counter() - t
            # the old per-message path, uncapped, on a sample
            inbox.messages.clear()
            sample_db = db.make_engine(f"sqlite:///{Path(tmp) / 'sample.db'}")
            db.upgrade(sample_db)
            flood(sample_db, SAMPLE, now - timedelta(minutes=10))
            one = subscriptions(now + timedelta(hours=6))[:1]
            uncapped = make_outbox(sample_db, port, one, per_hour=1000)
            per_s, per_sent = drain(uncapped, now)
            assert per_sent == SAMPLE, per_sent
            t = time.perf_counter()
            for _ in range(20):
                ssl.create_default_context()
            tls = (time.perf_counter() - t) / 20
    finally:
        controller.stop()
    per_message = per_s / per_sent + tls
    stories = {s.name: SIGNALS for s in subs}
    stories["draft-laws"] = SIGNALS // len(CATEGORIES)
    old = sum(stories.values()) * per_message
    print(f"alerts flood: {SIGNALS:,} strong signals at once, {len(subs)} subscriptions")
    for sub in subs:
        got = by_sub[sub.name]
        print(f"  {sub.name}: {len(got)} messages — digest first, then {got[1:]!r:.90}…")
    print(
        f"  delivered {sent} messages (nothing twice, every digest first) in {flood_s:.1f} s; "
        f"a dispatch with nothing new: {idle_s * 1000:.0f} ms"
    )
    print(
        f"  baseline, the per-message path: {per_s / per_sent * 1000:.1f} ms a message "
        f"(measured on {per_sent} uncapped alerts) + {tls * 1000:.1f} ms for a TLS context "
        f"each → {sum(stories.values()):,} alerts ≈ {old:.0f} s; the flood now takes "
        f"{flood_s:.1f} s: {old / flood_s:.0f}x less"
    )
    n = 2000
    pairs, index, whole = grouping(n)
    print(
        f"story grouping, {n:,} same-day titles: all pairs {pairs:.2f} s, title index "
        f"{index * 1000:.0f} ms ({pairs / index:.0f}x); {SIGNALS + 1:,} titles: "
        f"{whole:.2f} s with the index"
    )


if __name__ == "__main__":
    main()
