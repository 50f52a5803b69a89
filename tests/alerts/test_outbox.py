"""The outbox end to end: ingest → queue → a real SMTP server / webhook receiver on 127.0.0.1,
on SQLite and PostgreSQL. Nothing is lost, nothing is sent twice."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from datetime import timedelta
from email.utils import getaddresses
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from regwatch.alerts.outbox import DispatchReport, Outbox
from regwatch.config import load
from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store.models import Delivery, Document, utcnow
from tests.alerts.conftest import (
    Receiver,
    SmtpServer,
    delivery_config,
    due_after,
    outbox,
    seed,
    subscription,
)

ROOT = Path(__file__).resolve().parents[2]


def statuses(engine: Engine) -> list[tuple[str, str, str]]:
    with db.session_scope(engine) as s:
        return [
            (r.kind, r.channel, r.status) for r in s.scalars(select(Delivery).order_by(Delivery.id))
        ]


def test_strong_signals_alert_once_per_story(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    seeded = seed(engine, flagger)
    sub = subscription(countries=["kz", "tj"])
    box = outbox(engine, smtp.config(), sub)
    now = seeded.started + timedelta(hours=1)
    first = box.dispatch(now)
    # kz: one story with a digital_security and a draft_instrument signal → one alert;
    # tj: dushanbe_ai_center (by mention, from a regional source); uz: filtered out by country.
    assert first.alerts_queued == 2 and first.sent == 2, first.errors
    subjects = sorted(m.message["Subject"] for m in smtp.inbox.messages)
    assert subjects[0].startswith("[regwatch] D") and "News from kz" in subjects[0]
    assert subjects[1].startswith("[regwatch] Dushanbe AI Center") and "News from tj" in subjects[1]
    for received in smtp.inbox.messages:
        assert received.rcpt_tos == ["analyst@example.org", "lead@example.org"]
        assert received.mail_from == "regwatch@watch.example.org"
    again = box.dispatch(now + timedelta(minutes=5))
    assert (again.alerts_queued, again.sent) == (0, 0)
    assert len(smtp.inbox.messages) == 2


def test_same_story_elsewhere_raises_no_second_alert(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    from regwatch.crawlers import Document as Doc
    from tests.conftest import ingest_one

    seeded = seed(engine, flagger)
    sub = subscription(countries=["tj"])
    box = outbox(engine, smtp.config(), sub)
    assert box.dispatch(seeded.started + timedelta(hours=1)).sent == 1
    with db.session_scope(engine) as s:
        first = s.get_one(Document, seeded.doc_ids["tj"])
        source, title = first.source.name, first.title
    # Another site runs the story under the same headline with its own wording: a new
    # document with another URL and another content hash — the same story, no second alert.
    text = "Reposted: the government of Tajikistan wants a regional AI Center in Dushanbe."
    other = Doc(url="https://mirror.example/a/77", title=title, text=text, source=source)
    assert ingest_one(engine, flagger, other).signals_new >= 1
    # and the same page, changed: a new version of the first document
    again = Doc(
        url="https://tj.example/news/1", title="Changed", text=text + " More.", source=source
    )
    # (its finding is the same signal as before, already alerted: none new to alert on)
    edited = ingest_one(engine, flagger, again)
    assert (edited.outcome, edited.signals_new) == ("updated", 0)
    assert box.dispatch(seeded.started + timedelta(hours=2)).alerts_queued == 0
    assert len(smtp.inbox.messages) == 1


def test_subject_carries_the_subscribers_local_day(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    from datetime import date

    sub = subscription(timezone="Asia/Almaty", digest_time="00:30")  # 19:30 UTC the day before
    digest = outbox(engine, smtp.config(), sub).digest_of(sub, date(2026, 11, 26))
    assert digest.period_end.isoformat() == "2026-11-25T19:30:00+00:00"
    assert digest.subject == "regwatch · gr-team 2026-11-26: no new signals"


def test_digest_goes_out_once_per_period_with_a_stable_message_id(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    seeded = seed(engine, flagger)
    at, now = due_after(seeded.started)
    sub = subscription(digest_time=at, immediate_alerts=False)
    box = outbox(engine, smtp.config(), sub)
    report = box.dispatch(now)
    assert (report.digests_queued, report.sent) == (1, 1), report.errors
    [received] = smtp.inbox.messages
    msg = received.message
    day = f"{seeded.started + timedelta(hours=6):%Y-%m-%d}"  # the period: the local day it ends
    # three stories: kz (digital security and a draft: shown in full once, under its
    # first-found strongest signal, naming the other, and referenced from the other's
    # section), uz (a draft that keeps data on servers in Uzbekistan: data localisation too),
    # tj (the Dushanbe centre, and regional cooperation: referenced)
    assert msg["Subject"] == f"regwatch · gr-team {day}: 3 items in 5 categories"
    assert msg["Message-ID"] == f"<regwatch.digest.gr-team.{day}.email@watch.example.org>"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Dushanbe AI Center" in text and "<mark " in html and "glance" in html
    assert text.count("News from kz") == 2 and "also: " in text
    assert text.count("→ listed under") == 3  # kz, tj and uz each in a second section
    # the next cycles in the same period send nothing more
    assert box.dispatch(now + timedelta(minutes=10)).sent == 0
    assert box.dispatch(now + timedelta(hours=3)).sent == 0
    # the next day: a new period, with nothing new in it — a short note (quiet_day = "note")
    nxt = box.dispatch(now + timedelta(days=1))
    assert nxt.sent == 1 and len(smtp.inbox.messages) == 2
    assert smtp.inbox.messages[1].message["Subject"].endswith("no new signals")


def test_quiet_day_skip_sends_nothing_and_is_not_reconsidered(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    seeded = seed(engine, flagger)
    at, now = due_after(seeded.started)
    sub = subscription(
        digest_time=at, immediate_alerts=False, quiet_day="skip", categories=["risk_classification"]
    )
    box = outbox(engine, smtp.config(), sub)
    assert box.dispatch(now).digests_queued == 1
    assert smtp.inbox.messages == [] and statuses(engine) == [("digest", "email", "skipped")]
    assert box.dispatch(now + timedelta(minutes=5)).digests_queued == 0


def test_digest_missed_during_downtime_goes_out_once_covering_the_gap(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    seeded = seed(engine, flagger)
    at, now = due_after(seeded.started)
    sub = subscription(digest_time=at, immediate_alerts=False, countries=["uz"])
    box = outbox(engine, smtp.config(), sub)
    box.dispatch(now - timedelta(days=1))  # the day before: sent, without today's signals
    assert len(smtp.inbox.messages) == 1
    assert smtp.inbox.messages[0].message["Subject"].endswith("no new signals")
    # down for three days: one digest for the latest period, covering all three days
    later = box.dispatch(now + timedelta(days=2))
    assert later.digests_queued == 1 and len(smtp.inbox.messages) == 2
    latest = smtp.inbox.messages[1].message
    assert "1 item in 2 categories" in latest["Subject"]
    assert "Draft laws" in latest.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_smtp_down_retries_with_backoff_and_loses_nothing(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    seeded = seed(engine, flagger)
    sub = subscription(countries=["tj"])
    box = outbox(engine, smtp.config(), sub)
    now = seeded.started + timedelta(hours=1)
    smtp.inbox.fail_with = "451 4.3.0 try again later"
    first = box.dispatch(now)
    assert (first.sent, first.retrying) == (0, 1) and "451" in first.errors[0]
    smtp.inbox.fail_with = None
    # not due yet: the first retry waits retry_seconds (60)
    assert box.dispatch(now + timedelta(seconds=30)).sent == 0
    assert box.dispatch(now + timedelta(seconds=61)).sent == 1
    assert len(smtp.inbox.messages) == 1
    assert box.dispatch(now + timedelta(hours=1)).sent == 0


def test_gives_up_after_max_attempts_and_retry_brings_it_back(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    seeded = seed(engine, flagger)
    sub = subscription(countries=["tj"])
    smtp.stop()  # nothing listens: connection refused
    box = outbox(engine, smtp.config(), sub, delivery=delivery_config(max_attempts=2))
    now = seeded.started + timedelta(hours=1)
    assert box.dispatch(now).retrying == 1
    report = box.dispatch(now + timedelta(minutes=2))
    assert report.failed == 1 and "Connection refused" in report.errors[0]
    assert statuses(engine) == [("alert", "email", "failed")]
    [row] = box.rows("failed")
    assert row.attempts == 2 and "refused" in (row.last_error or "")
    assert box.retry() == 1 and statuses(engine) == [("alert", "email", "pending")]


def test_crash_mid_send_resends_once_with_the_same_message_id(
    engine: Engine,
    flagger: Flagger,
    smtp: SmtpServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`regwatch alerts dispatch` is SIGKILLed after the server took the message but before
    the sender recorded it: the row stays "sending"; once the claim is stale it is sent
    again, once, with the same Message-ID."""
    seed(engine, flagger)
    config = tmp_path / "config.toml"
    config.write_text(
        f'''[database]
url = "{engine.url.render_as_string(hide_password=False)}"
[smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "none"
sender = "regwatch@watch.example.org"
timeout = 5.0
[[subscriptions]]
name = "gr-team"
recipients = ["analyst@example.org"]
countries = ["tj"]
''',
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "regwatch.cli", "--config", str(config), "alerts", "dispatch"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    smtp.inbox.on_data = lambda: os.kill(proc.pid, signal.SIGKILL)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    smtp.inbox.on_data = None
    assert len(smtp.inbox.messages) == 1
    assert statuses(engine) == [("alert", "email", "sending")]
    settings = load(config, env={})
    box = outbox(engine, settings.smtp, *settings.subscriptions)
    now = utcnow()
    assert box.deliver(now).sent == 0  # the claim is not stale yet: the sender may be alive
    with caplog.at_level(logging.WARNING, logger="regwatch.alerts"):
        assert box.deliver(now + box.stale_claim).sent == 1
    assert box.deliver(now + 2 * box.stale_claim).sent == 0
    first, second = smtp.inbox.messages
    assert first.data == second.data
    message_id = first.message["Message-ID"]
    assert message_id == second.message["Message-ID"]
    [resent] = [r.getMessage() for r in caplog.records if "sending again" in r.getMessage()]
    with db.session_scope(engine) as s:
        row_id, signal_id = s.execute(select(Delivery.id, Delivery.signal_id)).one()
    assert resent.startswith(f"delivery {row_id} (alert signal {signal_id} for gr-team via email)")
    assert "attempt 1 was claimed and never recorded" in resent and message_id in resent
    assert statuses(engine) == [("alert", "email", "sent")]


def test_claims_are_exclusive(engine: Engine, flagger: Flagger, smtp: SmtpServer) -> None:
    """Two senders race for the same rows over one database: each row goes out once."""
    import threading

    seeded = seed(engine, flagger)
    sub = subscription()
    a = outbox(engine, smtp.config(), sub)
    b = outbox(engine, smtp.config(), sub)
    now = seeded.started + timedelta(hours=1)
    queued = a.queue_alerts(now)
    assert queued >= 2 and b.queue_alerts(now) == 0
    with db.session_scope(engine) as s:
        rows = s.execute(select(Delivery.id, Delivery.status, Delivery.attempts)).all()
    reports = [DispatchReport(), DispatchReport()]
    errors: list[BaseException] = []

    def race(
        box: Outbox, report: DispatchReport, gate: threading.Barrier, row: tuple[int, str, int]
    ) -> None:
        try:
            gate.wait(5)
            box.sender.deliver_one(*row, now, report)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    for row in rows:
        gate = threading.Barrier(2)
        threads = [
            threading.Thread(target=race, args=(box, report, gate, tuple(row)))
            for box, report in zip((a, b), reports, strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert errors == []
    assert reports[0].sent + reports[1].sent == queued
    assert len(smtp.inbox.messages) == queued
    assert len({m.message["Message-ID"] for m in smtp.inbox.messages}) == queued


def test_a_late_claim_in_a_long_batch_is_not_taken_as_stale(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    """A claim carries the time it was made, not the time the batch started."""
    seeded = seed(engine, flagger)
    box = outbox(engine, smtp.config(), subscription())
    now = seeded.started + timedelta(hours=1)
    box.queue_alerts(now)
    smtp.inbox.on_data = lambda: None
    box.deliver(now)
    with db.session_scope(engine) as s:
        claims = [c for c in s.scalars(select(Delivery.claimed_at).order_by(Delivery.id)) if c]
    assert len(claims) >= 2 and claims == sorted(claims) and claims[0] >= now


def test_backoff_never_overflows(engine: Engine, flagger: Flagger, smtp: SmtpServer) -> None:
    seeded = seed(engine, flagger)
    box = outbox(
        engine,
        smtp.config(),
        subscription(countries=["tj"]),
        delivery=delivery_config(max_attempts=100, retry_seconds=86_400),
    )
    now = seeded.started + timedelta(hours=1)
    box.queue_alerts(now)
    with db.session_scope(engine) as s:
        s.execute(update(Delivery).values(attempts=90))
    smtp.stop()
    report = box.deliver(now)
    assert report.retrying == 1
    [row] = box.rows()
    assert row.next_attempt_at is not None  # capped at 6 hours after the claim
    assert timedelta(hours=6) <= row.next_attempt_at - now < timedelta(hours=6, seconds=30)


def test_a_bad_webhook_does_not_stop_email_alerts(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    seeded = seed(engine, flagger)
    sub = subscription(countries=["tj"], webhooks=["json://[oops/x"])  # as if config were skipped
    report = outbox(engine, smtp.config(), sub).dispatch(seeded.started + timedelta(hours=1))
    assert report.sent == 1 and len(smtp.inbox.messages) == 1


def text_of_title(html: str) -> str:
    """The text of the first item title: where template syntax would have been evaluated."""
    start = html.index('class="title"')
    return html[start : html.index("</", start)]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


EVIL_TITLE = (
    "<script>alert(1)</script><img src=x onerror=alert(1)> {{7*7}} "
    "=?utf-8?q?=0D=0ABcc:_victim@evil.example?= \r\nBcc: victim@evil.example\r\n"
    "X-Injected: yes\u2028Reply-To: evil@evil.example"
)


def test_crawled_content_cannot_inject_headers_markup_or_template_code(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    seeded = seed(engine, flagger)
    with db.session_scope(engine) as s:  # as an import from another tool might store it
        doc = s.get_one(Document, seeded.doc_ids["tj"])
        doc.title = EVIL_TITLE
        doc.url = "javascript:alert(document.cookie)"
    at, now = due_after(seeded.started)
    sub = subscription(countries=["tj"], digest_time=at)
    box = outbox(engine, smtp.config(), sub)
    assert box.dispatch(seeded.started + timedelta(hours=1)).sent == 1  # the alert
    assert box.dispatch(now).sent == 1  # the digest
    for received in smtp.inbox.messages:
        assert received.rcpt_tos == ["analyst@example.org", "lead@example.org"]
        msg = received.message
        assert sorted(msg.keys()) == sorted(
            [
                "From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
                "MIME-Version", "Content-Type",
            ]
        )  # fmt: skip
        assert [a for _, a in getaddresses(msg.get_all("To", []))] == [
            "analyst@example.org",
            "lead@example.org",
        ]
        assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
        assert "evil.example" not in "".join(f"{k}: {v}" for k, v in msg.items() if k != "Subject")
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        parser = _Tags()
        parser.feed(html)
        assert "script" not in {t for t, _ in parser.tags}
        assert not any(k.startswith("on") for _, attrs in parser.tags for k in attrs)
        assert not any(
            (attrs.get("href") or "").startswith("javascript") for _, attrs in parser.tags
        )
        assert "{{7*7}}" in html and "{{7*7}}" in text_of_title(html)
        text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "javascript:" not in text


def test_webhook_alerts_reach_the_receiver_once(
    engine: Engine, flagger: Flagger, smtp: SmtpServer, receiver: Receiver
) -> None:
    seeded = seed(engine, flagger)
    sub = subscription(
        countries=["tj"],
        alert_email=False,
        webhooks=[f"json://127.0.0.1:{receiver.port}/regwatch"],
        webhook_env=("REGWATCH_TEST_HOOK",),
    )
    env = {"REGWATCH_TEST_HOOK": f"json://127.0.0.1:{receiver.port}/secret-path"}
    box = outbox(engine, smtp.config(), sub, env=env)
    now = seeded.started + timedelta(hours=1)
    report = box.dispatch(now)
    assert report.sent == 2, report.errors
    assert sorted(h.path for h in receiver.received) == ["/regwatch", "/secret-path"]
    body = receiver.received[0].json
    assert body["title"].startswith("[regwatch] Dushanbe AI Center")
    assert "AI Center" in body["message"]
    assert smtp.inbox.messages == []
    # the secret URL is not in the database
    with db.session_scope(engine) as s:
        stored = " ".join(
            r.target + r.payload + (r.last_error or "") for r in s.scalars(select(Delivery))
        )
    assert "secret-path" not in stored and "$REGWATCH_TEST_HOOK" in stored
    assert box.dispatch(now + timedelta(minutes=1)).sent == 0
    assert len(receiver.received) == 2


def test_webhook_down_is_retried(
    engine: Engine, flagger: Flagger, smtp: SmtpServer, receiver: Receiver
) -> None:
    seeded = seed(engine, flagger)
    sub = subscription(
        countries=["tj"], alert_email=False, webhooks=[f"json://127.0.0.1:{receiver.port}/x"]
    )
    box = outbox(engine, smtp.config(), sub)
    now = seeded.started + timedelta(hours=1)
    receiver.status = 503
    assert box.dispatch(now).retrying == 1
    receiver.status = 200
    assert box.dispatch(now + timedelta(minutes=2)).sent == 1
    assert len(receiver.received) == 1


@pytest.mark.parametrize("scheme", ["json", "signal"])
def test_webhook_to_a_private_address_is_refused(
    engine: Engine, flagger: Flagger, smtp: SmtpServer, receiver: Receiver, scheme: str
) -> None:
    seeded = seed(engine, flagger)
    url = f"{scheme}://127.0.0.1:{receiver.port}/x"
    if scheme == "signal":  # a self-hosted signal-cli REST API: its host is ours to check
        url = f"signal://127.0.0.1:{receiver.port}/+15551230000/+15551230001"
    sub = subscription(countries=["tj"], alert_email=False, webhooks=[url])
    box = outbox(engine, smtp.config(), sub, allow_networks=())
    report = box.dispatch(seeded.started + timedelta(hours=1))
    assert report.sent == 0 and "not public" in report.errors[0]
    assert receiver.received == []


def test_refusal_of_a_secret_webhook_keeps_the_secret(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    seeded = seed(engine, flagger)
    sub = subscription(countries=["tj"], alert_email=False, webhook_env=("HOOK",))
    env = {"HOOK": "json://10.0.0.5/hooks/SECRET-TOKEN-123"}
    box = outbox(engine, smtp.config(), sub, allow_networks=(), env=env)
    report = box.dispatch(seeded.started + timedelta(hours=1))
    assert report.retrying == 1 and "$HOOK" in report.errors[0]
    with db.session_scope(engine) as s:
        [row] = s.scalars(select(Delivery))
        assert "SECRET" not in row.last_error + row.target + row.payload  # type: ignore[operator]
    assert "SECRET" not in " ".join(report.errors)


def test_removed_subscription_is_not_sent(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    seeded = seed(engine, flagger)
    sub = subscription(countries=["tj"])
    now = seeded.started + timedelta(hours=1)
    assert outbox(engine, smtp.config(), sub).queue_alerts(now) == 1
    report = outbox(engine, smtp.config()).deliver(now)
    assert report.failed == 1 and "no longer configured" in report.errors[0]
    assert smtp.inbox.messages == []
