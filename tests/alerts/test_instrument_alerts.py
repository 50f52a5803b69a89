"""Stage changes and consultation reminders through the outbox to a real SMTP server and a
webhook receiver on 127.0.0.1, on SQLite and PostgreSQL: each once per (subscription,
instrument, stage) and per (subscription, instrument, deadline); a moved deadline reminds
again; a backward stage is shown, never alerted."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, update

from regwatch.instruments.vocabulary import Stage
from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store.instrument_models import Instrument
from regwatch.store.models import Delivery, utcnow
from tests.alerts.conftest import Receiver, SmtpServer, outbox, seed, subscription
from tests.instrument_seed import link, stage


def rows(engine: Engine) -> list[tuple[str, str, str, int | None]]:
    with db.session_scope(engine) as s:
        return [
            (r.subscription, r.kind, r.status, r.instrument_event_id or r.instrument_id)
            for r in s.scalars(
                select(Delivery)
                .where(Delivery.kind.in_(["stage", "reminder"]))
                .order_by(Delivery.id)
            )
        ]


def test_a_stage_change_alerts_matching_subscriptions_once(
    engine: Engine, flagger: Flagger, smtp: SmtpServer, receiver: Receiver
) -> None:
    seeded = seed(engine, flagger)
    kz = subscription(
        name="gr-kz",
        countries=["kz"],
        immediate_alerts=False,
        reminder_days=0,
        webhooks=(f"json://127.0.0.1:{receiver.port}/hook",),
    )
    uz = subscription(name="gr-uz", countries=["uz"], immediate_alerts=False, reminder_days=0)
    themed = subscription(
        name="data", categories=["data_localization"], immediate_alerts=False, reminder_days=0
    )
    box = outbox(engine, smtp.config(), kz, uz, themed, ui_url="https://watch.example")
    today = utcnow().date()
    iid = link(
        engine,
        seeded.doc_ids["kz"],
        stages=(stage(Stage.PUBLIC_DISCUSSION, today - timedelta(days=2)),),
    )
    first = box.dispatch(utcnow() + timedelta(seconds=1))
    assert first.instrument_alerts_queued == 2 and first.sent == 2, first.errors
    [mail] = smtp.inbox.messages
    assert mail.message["Subject"] == (
        "[regwatch] Public discussion: "
        "Проект Закона Республики Казахстан «Об искусственном интеллекте»"
    )
    body = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Now: Public discussion" in body and "portal: status public_discussion" in body
    assert "News from kz" in body  # the evidence document
    assert f"https://watch.example/instruments/{iid}" in body  # its page in the web UI
    [hook] = receiver.received
    assert hook.json["title"] == mail.message["Subject"]
    # the next dispatch sends nothing again
    again = box.dispatch(utcnow() + timedelta(seconds=2))
    assert again.instrument_alerts_queued == 0 and again.sent == 0
    # the next stage, from another document of the same draft: one more alert
    link(
        engine,
        seeded.doc_ids["tj"],
        instrument_id=iid,
        stages=(
            stage(Stage.FIRST_READING, today, "Мажилис одобрил законопроект в первом чтении."),
        ),
    )
    second = box.dispatch(utcnow() + timedelta(seconds=3))
    assert second.instrument_alerts_queued == 2 and second.sent == 2, second.errors
    assert (
        smtp.inbox.messages[1]
        .message["Subject"]
        .startswith("[regwatch] First reading (Mazhilis): ")
    )
    text = smtp.inbox.messages[1].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Before: Public discussion" in text
    # a document saying it is back in discussion contradicts the stage: shown, not alerted
    link(
        engine,
        seeded.doc_ids["uz"],
        instrument_id=iid,
        stages=(stage(Stage.PUBLIC_DISCUSSION, None, "Проект вынесен на обсуждение.", "text"),),
    )
    third = box.dispatch(utcnow() + timedelta(seconds=4))
    assert third.instrument_alerts_queued == 0 and len(smtp.inbox.messages) == 2
    assert [(s, k, st) for s, k, st, _ in rows(engine)] == [
        ("gr-kz", "stage", "sent"),
        ("gr-kz", "stage", "sent"),
        ("gr-kz", "stage", "sent"),
        ("gr-kz", "stage", "sent"),
    ]
    # the uz subscription and the data_localization one never matched this kz AI draft
    assert all(s == "gr-kz" for s, *_ in rows(engine))


def test_a_second_outbox_queues_nothing_twice(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    """Two senders racing over one database: the unique key keeps one row per event."""
    seeded = seed(engine, flagger)
    sub = subscription(immediate_alerts=False, reminder_days=0)
    link(engine, seeded.doc_ids["kz"], stages=(stage(Stage.PUBLIC_DISCUSSION),))
    one, two = outbox(engine, smtp.config(), sub), outbox(engine, smtp.config(), sub)
    now = utcnow() + timedelta(seconds=1)
    from regwatch.alerts.instrument_alerts import instrument_items

    # both read before either writes: both have the row to queue
    items = [
        instrument_items(
            engine,
            [sub],
            box.queue.channels,
            now,
            lookback=timedelta(hours=24),
            message_id=box.queue._message_id,
        )
        for box in (one, two)
    ]
    assert [len(i) for i in items] == [1, 1]
    assert one.queue._insert(items[0]) == 1 and two.queue._insert(items[1]) == 0
    assert one.dispatch(now).sent == 1 and two.dispatch(now).sent == 0
    assert len(smtp.inbox.messages) == 1


def test_reminders_go_n_days_before_the_end_once_per_deadline(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    seeded = seed(engine, flagger)
    sub = subscription(timezone="Asia/Almaty", immediate_alerts=False, stage_alerts=True)
    never = subscription(name="no-reminders", immediate_alerts=False, reminder_days=0)
    box = outbox(engine, smtp.config(), sub, never)
    now = utcnow()
    today = now.astimezone(ZoneInfo("Asia/Almaty")).date()
    iid = link(
        engine,
        seeded.doc_ids["kz"],
        consultation_start=today - timedelta(days=10),
        consultation_end=today + timedelta(days=5),
    )
    # five days left, reminders at three: nothing yet
    assert box.queue_instrument_alerts(now) == 0
    # three days left (the clock moves on two days): one reminder, to the subscription that
    # takes them
    later = now + timedelta(days=2)
    report = box.dispatch(later)
    assert report.instrument_alerts_queued == 1 and report.sent == 1, report.errors
    [mail] = smtp.inbox.messages
    end = today + timedelta(days=5)
    assert mail.message["Subject"] == (
        f"[regwatch] Consultation closes in 3 days ({end.isoformat()}): "
        "Проект Закона Республики Казахстан «Об искусственном интеллекте»"
    )
    body = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"Comments are accepted until {end.isoformat()} (3 days left)" in body
    # once per deadline: the next days send nothing
    assert box.dispatch(later + timedelta(days=1)).instrument_alerts_queued == 0
    # the deadline is extended by a week: a new deadline, a new reminder when it comes
    with db.session_scope(engine) as s:
        s.execute(
            update(Instrument)
            .where(Instrument.id == iid)
            .values(consultation_end=end + timedelta(days=7))
        )
    assert box.dispatch(later + timedelta(days=1)).instrument_alerts_queued == 0
    moved = box.dispatch(later + timedelta(days=7))
    assert moved.instrument_alerts_queued == 1 and moved.sent == 1
    assert f"({(end + timedelta(days=7)).isoformat()})" in smtp.inbox.messages[1].message["Subject"]
    assert [(s, k, st) for s, k, st, _ in rows(engine)] == [
        ("gr-team", "reminder", "sent"),
        ("gr-team", "reminder", "sent"),
    ]
    with db.session_scope(engine) as s:
        deadlines = list(
            s.scalars(
                select(Delivery.deadline).where(Delivery.kind == "reminder").order_by(Delivery.id)
            )
        )
    assert deadlines == [end, end + timedelta(days=7)]


def test_the_digest_tells_stage_changes_and_consultations_closing(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    from regwatch.alerts.render import render_html, render_text
    from regwatch.alerts.report import subscription_digest

    seeded = seed(engine, flagger)
    today = utcnow().date()
    link(
        engine,
        seeded.doc_ids["kz"],
        stages=(stage(Stage.PUBLIC_DISCUSSION, today - timedelta(days=1)),),
        consultation_end=today + timedelta(days=4),
    )
    link(  # closes in ten days: not in the next seven
        engine,
        seeded.doc_ids["uz"],
        portal_id="777",
        title="Проект постановления о цифровых платформах",
        jurisdiction="uz",
        kind="resolution",
        stages=(stage(Stage.PUBLIC_DISCUSSION, today),),
        consultation_end=today + timedelta(days=10),
    )
    sub = subscription(timezone="UTC")
    start, end = seeded.started - timedelta(hours=1), utcnow() + timedelta(minutes=1)
    d = subscription_digest(engine, sub, start, end, max_items=20, quiet_days=7)
    assert [n.stage for n in d.stage_changes] == ["Public discussion", "Public discussion"]
    assert [n.title for n in d.closing] == [
        "Проект Закона Республики Казахстан «Об искусственном интеллекте»"
    ]
    assert d.closing[0].days_left == 4
    assert d.subject.endswith("; 2 stage changes, 1 consultation closing")
    text = render_text(d)
    assert "== Stage changes (2) ==" in text
    assert "== Consultations closing in the next 7 days (1) ==" in text
    assert f"{(today + timedelta(days=4)).isoformat()}  Проект Закона" in text
    html = render_html(d)
    assert "Consultations closing in the next 7 days (1)" in html
    # a subscription for Uzbekistan sees only the uz draft's stage and no kz deadline
    uz = subscription(name="uz", countries=["uz"])
    d_uz = subscription_digest(engine, uz, start, end, max_items=20, quiet_days=7)
    assert [n.title for n in d_uz.stage_changes] == ["Проект постановления о цифровых платформах"]
    assert d_uz.closing == ()
    # a day with no signals but a stage change is not a quiet day to skip
    later = subscription_digest(
        engine, sub, end, end + timedelta(days=1), max_items=20, quiet_days=7
    )
    assert not later.sections and later.closing and later.has_news
    # with the web UI's public address, each instrument links to its page there
    linked = subscription_digest(
        engine, sub, start, end, max_items=20, quiet_days=7, ui_url="https://watch.example/"
    )
    kz = linked.closing[0].instrument_id
    page = f"https://watch.example/instruments/{kz}"
    assert {n.page for n in linked.closing} == {page}
    assert f'href="{page}"' in render_html(linked)
    assert page in render_text(linked)
    assert 'href="https://watch.example' not in html  # none without it


def test_a_stage_reached_again_after_an_unlink_is_not_told_twice(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    from regwatch.store.instrument_links import unlink

    seeded = seed(engine, flagger)
    sub = subscription(immediate_alerts=False, reminder_days=0)
    box = outbox(engine, smtp.config(), sub)
    iid = link(engine, seeded.doc_ids["kz"], stages=(stage(Stage.PUBLIC_DISCUSSION),))
    link(engine, seeded.doc_ids["tj"], instrument_id=iid, stages=(stage(Stage.FIRST_READING),))
    assert box.dispatch(utcnow() + timedelta(seconds=1)).sent == 2
    with db.session_scope(engine) as s:  # the first-reading article was about another draft
        unlink(s, seeded.doc_ids["tj"], iid)
        assert s.get_one(Instrument, iid).stage == "public_discussion"
    # another document puts it at first reading again: a new event, the same stage
    link(engine, seeded.doc_ids["uz"], instrument_id=iid, stages=(stage(Stage.FIRST_READING),))
    with db.session_scope(engine) as s:
        assert s.get_one(Instrument, iid).stage == "first_reading"
    again = box.dispatch(utcnow() + timedelta(seconds=2))
    assert again.instrument_alerts_queued == 0 and len(smtp.inbox.messages) == 2
    # a stage it had not reached is told
    link(engine, seeded.doc_ids["uz"], instrument_id=iid, stages=(stage(Stage.SIGNED),))
    assert box.dispatch(utcnow() + timedelta(seconds=3)).instrument_alerts_queued == 1


def test_a_refused_stage_alert_is_retried_and_sent_once(
    engine: Engine, flagger: Flagger, smtp: SmtpServer
) -> None:
    seeded = seed(engine, flagger)
    sub = subscription(immediate_alerts=False, reminder_days=0)
    box = outbox(engine, smtp.config(), sub)
    link(engine, seeded.doc_ids["kz"], stages=(stage(Stage.PUBLIC_DISCUSSION),))
    smtp.inbox.fail_with = "451 4.3.0 try again later"
    now = utcnow() + timedelta(seconds=1)
    first = box.dispatch(now)
    assert first.instrument_alerts_queued == 1 and first.retrying == 1 and first.sent == 0
    assert [(k, st) for _, k, st, _ in rows(engine)] == [("stage", "pending")]
    smtp.inbox.fail_with = None
    assert box.dispatch(now + timedelta(seconds=5)).sent == 0  # not due before its back-off
    later = box.dispatch(now + timedelta(minutes=2))
    assert later.sent == 1 and later.instrument_alerts_queued == 0
    assert box.dispatch(now + timedelta(hours=1)).sent == 0
    [mail] = smtp.inbox.messages
    assert mail.message["Message-ID"].startswith("<regwatch.stage.gr-team.e")
