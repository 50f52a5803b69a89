"""Alert floods against a real SMTP server on 127.0.0.1, on SQLite and PostgreSQL: at most
``alerts_per_hour`` alerts per subscription and channel, the rest in one bundled message (at
most one an hour), the day's digest first, nothing twice; and the title index that groups
stories, proven equal to comparing every pair."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select

from regwatch.alerts.digest import near, near_pairs
from regwatch.crawlers import Document
from regwatch.nlp import Flagger
from regwatch.pipeline import ingest
from regwatch.store import db
from regwatch.store.models import Delivery, utcnow
from tests.alerts.conftest import SmtpServer, delivery_config, due_after, outbox, seed, subscription

WORDS = [
    "министерство",
    "цифрового",
    "развития",
    "опубликовало",
    "проект",
    "закона",
    "об",
    "искусственном",
    "интеллекте",
    "и",
    "цифровой",
    "безопасности",
    "для",
    "обсуждения",
    "с",
    "экспертами",
    "рынка",
    "платформ",
    "данных",
    "облака",
]


def flood(engine: Engine, flagger: Flagger, n: int, tag: str) -> None:
    """``n`` new stories, each with a strong draft-law signal (distinct texts and titles)."""
    rng = random.Random(tag)
    docs = []
    for i in range(n):
        words = " ".join(rng.sample(WORDS, 6))
        docs.append(
            Document(
                url=f"https://gov.kz/{tag}/{i}",
                title=f"{tag} {i}: {words}",
                text=f"Министерство опубликовало законопроект об искусственном интеллекте "
                f"№ {tag}-{i}. Документ вводит понятие цифровой безопасности ({words}).",
                source="kz-gov",
            )
        )
    for _doc, result in ingest(engine, flagger, docs):
        assert not isinstance(result, Exception), result


def rows(engine: Engine) -> list[tuple[str, str, int | None]]:
    with db.session_scope(engine) as s:
        return [
            (r.kind, r.status, r.signal_id)
            for r in s.scalars(select(Delivery).order_by(Delivery.id))
        ]


def test_a_flood_is_capped_bundled_and_never_ahead_of_the_digest(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    seed(engine, flagger)  # 3 stories
    flood(engine, flagger, 27, "a")
    at, now = due_after(utcnow() + timedelta(minutes=1), hours=0)  # the digest is due
    sub = subscription(digest_time=at, alert_threshold=0.0)
    box = outbox(engine, smtp.config(), sub, delivery=delivery_config(alerts_per_hour=5))

    report = box.dispatch(now)
    assert report.errors == [] and report.digests_queued == 1
    subjects = [m.message["Subject"] for m in smtp.inbox.messages]
    assert "items in" in subjects[0], "the digest goes first"
    alerts = [s for s in subjects[1:] if not s.startswith("[regwatch] 2")]
    assert len(alerts) == 5
    stories = len({sid for kind, _, sid in rows(engine) if kind == "alert"})
    assert subjects[1:].count(f"[regwatch] {stories - 5} more strong signals for gr-team") == 1
    assert len(subjects) == 7
    bundle = smtp.inbox.messages[-1].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "More than 5 strong signals arrived within an hour" in bundle

    # more within the hour: held, no new message (the hour's alerts and bundle are used up)
    flood(engine, flagger, 4, "b")
    later = now + timedelta(minutes=20)
    assert box.dispatch(later).sent == 0
    assert sum(1 for kind, status, _ in rows(engine) if status == "held") == 4
    # an hour after the bundle: room for alerts again, and the held ones get their bundle
    flood(engine, flagger, 2, "c")
    assert box.dispatch(now + timedelta(minutes=61)).sent == 3
    assert smtp.inbox.messages[-1].message["Subject"] == (
        "[regwatch] 4 more strong signals for gr-team"
    )
    # nothing twice: one row per story and channel, one message per Message-ID
    ids = [m.message["Message-ID"] for m in smtp.inbox.messages]
    assert len(ids) == len(set(ids)) == 10
    signal_ids = [sid for kind, _, sid in rows(engine) if kind == "alert"]
    assert len(signal_ids) == len(set(signal_ids))
    assert all(status in ("sent", "bundled") for kind, status, _ in rows(engine))
    assert box.dispatch(now + timedelta(hours=3)).sent == 0


def test_a_new_process_reads_what_the_last_one_alerted(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    """The queue reads incrementally, but a fresh queue (another process) starts from the
    database and alerts nothing twice."""
    seeded = seed(engine, flagger)
    sub = subscription(alert_threshold=0.0)
    now = seeded.started + timedelta(minutes=5)
    first = outbox(engine, smtp.config(), sub).dispatch(now)
    assert first.sent == first.alerts_queued > 0
    flood(engine, flagger, 2, "d")
    second = outbox(engine, smtp.config(), sub)
    assert second.dispatch(now + timedelta(minutes=1)).alerts_queued == 2
    assert second.dispatch(now + timedelta(minutes=2)).alerts_queued == 0
    with db.session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Delivery)) == first.sent + 2


def test_incremental_reads_only_new_signals(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    seeded = seed(engine, flagger)
    sub = subscription(alert_threshold=0.0)
    box = outbox(engine, smtp.config(), sub)
    now: datetime = seeded.started + timedelta(minutes=5)
    box.dispatch(now)
    mark = box.queue.memory.signal_mark
    assert mark > 0
    box.dispatch(now + timedelta(minutes=1))
    assert box.queue.memory.signal_mark == mark  # nothing new was read
    flood(engine, flagger, 1, "e")
    assert box.dispatch(now + timedelta(minutes=2)).alerts_queued == 1
    assert box.queue.memory.signal_mark > mark


def _brute(titles: list[frozenset[str]]) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(len(titles))
        for j in range(i + 1, len(titles))
        if near(titles[i], titles[j])
    ]


def test_title_index_finds_exactly_the_pairs_all_pairs_finds() -> None:
    rng = random.Random(7)
    vocab = [f"w{n}" for n in range(40)] + WORDS
    for trial in range(60):
        base = [frozenset(rng.sample(vocab, rng.randint(4, 14))) for _ in range(25)]
        titles = list(base)
        for words in base:  # near copies: a word changed, added or dropped
            w = set(words)
            edit = rng.choice(("swap", "add", "drop", "two"))
            if edit in ("swap", "drop", "two") and len(w) > 4:
                w.discard(rng.choice(sorted(w)))
            if edit in ("swap", "add", "two"):
                w.add(rng.choice(vocab))
            if edit == "two":
                w.add(rng.choice(vocab))
            titles.append(frozenset(w))
        rng.shuffle(titles)
        assert near_pairs(titles) == _brute(titles), trial
