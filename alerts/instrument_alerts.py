"""Stage-change alerts and consultation reminders into the outbox (issue 16 §2).

* A stage change — an instrument event that moved its stage forward
  (:func:`store.instruments.stage_changes_since`), recorded within the alert lookback — is one
  ``stage`` row per (subscription, channel, event): at most one such event exists per
  instrument and stage, and an instrument that reaches a stage again (recomputed after an
  unlink) is not told it twice: a subscription hears of each stage of an instrument once.
* A consultation closing within a subscription's ``reminder_days`` (counted in its time zone)
  is one ``reminder`` row per (subscription, channel, instrument, deadline): a moved deadline
  is a new deadline and gets its own reminder.

Rows go through the channels that carry the subscription's alerts, rendered and keyed before
anything is sent, like every other row of the outbox (unique keys: nothing twice). What is
already queued is read first, so a dispatch renders only what is new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from regwatch.alerts.channels import Channels, Content
from regwatch.alerts.instrument_news import (
    Reminder,
    StageAlert,
    closing_news,
    matches,
    stage_news,
    with_page,
)
from regwatch.alerts.queue import Queued
from regwatch.alerts.render import render_reminder, render_stage
from regwatch.config import SubscriptionConfig
from regwatch.store import db
from regwatch.store.instrument_models import InstrumentEvent
from regwatch.store.instruments import consultations_closing, stage_changes_since
from regwatch.store.models import Delivery

__all__ = ["instrument_items"]

log = logging.getLogger("regwatch.alerts")

MessageId = Callable[[str, str, str, str], str]  # (kind, subscription, key, channel)


def _queued_stages(
    session: Session, instrument_ids: Sequence[int]
) -> set[tuple[str, str, int, str]]:
    """(subscription, channel, instrument, stage) already told: an instrument that reaches a
    stage again (its stage was recomputed after an unlink, say) is not told twice."""
    if not instrument_ids:
        return set()
    E = InstrumentEvent
    rows = session.execute(
        select(Delivery.subscription, Delivery.channel, Delivery.instrument_id, E.stage)
        .join(E, E.id == Delivery.instrument_event_id)
        .where(Delivery.kind == "stage", Delivery.instrument_id.in_(list(instrument_ids)))
    )
    return {(s, c, i, st) for s, c, i, st in rows if i is not None}


def _queued_reminders(
    session: Session, instrument_ids: Sequence[int]
) -> set[tuple[str, str, int, date]]:
    if not instrument_ids:
        return set()
    rows = session.execute(
        select(
            Delivery.subscription, Delivery.channel, Delivery.instrument_id, Delivery.deadline
        ).where(
            Delivery.kind == "reminder",
            Delivery.instrument_id.in_(list(instrument_ids)),
        )
    )
    return {(s, c, i, d) for s, c, i, d in rows if i is not None and d is not None}


def instrument_items(
    engine: Engine,
    subs: Sequence[SubscriptionConfig],
    channels: Channels,
    now: datetime,
    *,
    lookback: timedelta,
    message_id: MessageId,
    ui_url: str = "",
) -> list[Queued]:
    """The outbox rows of the stage changes and reminders not queued yet, for ``subs``."""
    items: list[Queued] = []
    with db.session_scope(engine) as session:
        changes = stage_changes_since(session, now - lookback)
        changes = [c for c in changes if c.recorded_at <= now]
        news = {c.event_id: with_page(stage_news(session, c), ui_url) for c in changes}
        done = _queued_stages(session, sorted({c.instrument.id for c in changes}))
        closing = {}
        for sub in subs:
            if sub.reminder_days > 0:
                today = now.astimezone(ZoneInfo(sub.timezone)).date()
                closing[sub.name] = (
                    today,
                    consultations_closing(session, today, sub.reminder_days),
                )
        ids = sorted({i.id for _, found in closing.values() for i in found})
        reminded = _queued_reminders(session, ids)
    for sub in subs:
        for problem in channels.problems(sub):  # the other channels still go
            log.error("instrument alerts for %s: %s", sub.name, problem)
        mine = [c for c in changes if matches(sub, c.instrument)]
        today, due = closing.get(sub.name, (now.date(), []))
        due = [i for i in due if matches(sub, i)]
        for channel in channels.of(sub, "alert"):
            for change in mine:
                told = (sub.name, channel.name, change.instrument.id, change.stage.value)
                if told in done:
                    continue
                done.add(told)
                alert = StageAlert(sub.name, news[change.event_id])
                text, html = render_stage(alert)
                mid = message_id("stage", sub.name, f"e{change.event_id}", channel.name)
                items.append(
                    Queued(
                        sub.name,
                        channel.name,
                        "stage",
                        None,
                        None,
                        channel.target(sub),
                        channel.render(sub, Content(alert.subject, text, html), mid, now),
                        mid,
                        created_at=now,
                        instrument_event_id=change.event_id,
                        instrument_id=change.instrument.id,
                    )
                )
            for inst in due:
                end = inst.consultation_end
                assert end is not None
                if (sub.name, channel.name, inst.id, end) in reminded:
                    continue
                reminder = Reminder(
                    sub.name, with_page(closing_news(inst, today), ui_url), sub.reminder_days
                )
                text, html = render_reminder(reminder)
                key = f"i{inst.id}-{end:%Y%m%d}"
                mid = message_id("reminder", sub.name, key, channel.name)
                items.append(
                    Queued(
                        sub.name,
                        channel.name,
                        "reminder",
                        None,
                        None,
                        channel.target(sub),
                        channel.render(sub, Content(reminder.subject, text, html), mid, now),
                        mid,
                        created_at=now,
                        instrument_id=inst.id,
                        deadline=end,
                    )
                )
    return items
