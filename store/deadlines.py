"""The dated things about instruments, for the calendar page and its iCalendar feed: each
consultation's last day and each dated stage an instrument reached (issue 16 §2).

    calendar_entries(session, country=, stage=, theme=, keep=, since=) -> [CalendarEntry]
        oldest first; ``keep`` filters instruments (a subscription's match); ``since`` drops
        entries dated before it.

An entry's ``uid`` is stable — a consultation's is its instrument's, so a moved deadline
moves the event; a stage's is its event's id — and ``stamp`` is when what it says last
changed (UTC), so a calendar client updates an event instead of adding a copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from regwatch.instruments.vocabulary import Stage
from regwatch.store.instrument_models import InstrumentEvent
from regwatch.store.instruments import (
    InstrumentSummary,
    counted_out,
    list_instruments,
    members,
)

__all__ = ["CONSULTATION", "STAGE", "CalendarEntry", "calendar_entries"]

CONSULTATION, STAGE = "consultation", "stage"


@dataclass(frozen=True)
class CalendarEntry:
    uid: str
    kind: str  # consultation (its last day) | stage (the day it was reached)
    day: date
    instrument: InstrumentSummary
    stage: Stage | None  # the stage reached (a stage entry)
    event_id: int | None
    evidence: str
    stamp: datetime  # when it last changed, UTC


def calendar_entries(
    session: Session,
    *,
    country: str | None = None,
    stage: Stage | str | None = None,
    theme: str | None = None,
    keep: Callable[[InstrumentSummary], bool] | None = None,
    since: date | None = None,
) -> list[CalendarEntry]:
    out: list[CalendarEntry] = []
    E = InstrumentEvent
    for inst in list_instruments(session, country=country, stage=stage, theme=theme):
        if keep is not None and not keep(inst):
            continue
        if inst.consultation_end is not None:
            out.append(
                CalendarEntry(
                    f"regwatch-consultation-{inst.id}@regwatch",
                    CONSULTATION,
                    inst.consultation_end,
                    inst,
                    None,
                    None,
                    "",
                    inst.last_seen,
                )
            )
        events = session.scalars(
            select(E)
            .where(
                E.instrument_id.in_(members(session, inst.id)),
                E.stage_date.is_not(None),
                E.contradicts.is_(False),
                ~counted_out(),
            )
            .order_by(E.id)
        )
        for e in events:
            assert e.stage_date is not None
            out.append(
                CalendarEntry(
                    f"regwatch-stage-{e.id}@regwatch",
                    STAGE,
                    e.stage_date,
                    inst,
                    Stage(e.stage),
                    e.id,
                    e.evidence,
                    e.recorded_at,
                )
            )
    if since is not None:
        out = [e for e in out if e.day >= since]
    return sorted(out, key=lambda e: (e.day, e.kind != CONSULTATION, e.uid))
