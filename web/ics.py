"""The calendar as an iCalendar feed (RFC 5545), built with the ``icalendar`` library: every
entry an all-day event (a consultation's last day, the day a stage was reached) with a stable
UID and DTSTAMP in UTC, so a calendar client that subscribes updates its events instead of
adding copies. For a subscription with reminders, each consultation carries an alarm that many
days before."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, timedelta

from icalendar import Alarm, Calendar, Event

from regwatch.instruments.vocabulary import JURISDICTIONS, stage_label
from regwatch.store.deadlines import CONSULTATION, CalendarEntry

__all__ = ["PRODID", "entry_summary", "feed"]

PRODID = "-//regwatch//Instruments calendar//EN"


def entry_summary(entry: CalendarEntry) -> str:
    """The event's one-line title."""
    inst = entry.instrument
    title = inst.label
    if entry.kind == CONSULTATION:
        return f"Consultation closes: {title}"
    assert entry.stage is not None
    return f"{stage_label(entry.stage, inst.jurisdiction)}: {title}"


def _description(entry: CalendarEntry, link: str) -> str:
    inst = entry.instrument
    lines = [inst.label]
    facts = [
        JURISDICTIONS.get(inst.jurisdiction or "", ""),
        inst.kind or "",
        inst.number or "",
        inst.issuing_body or "",
    ]
    lines.append(" · ".join(f for f in facts if f))
    if entry.kind == CONSULTATION:
        start = inst.consultation_start
        lines.append(
            "Comments accepted"
            + (f" from {start.isoformat()}" if start else "")
            + f" until {entry.day.isoformat()} (the last day)"
            + (f" on {inst.portal}" if inst.portal else "")
        )
    elif entry.evidence:
        lines.append(f"Evidence: {entry.evidence}")
    if inst.stage is not None:
        lines.append(f"Current stage: {stage_label(inst.stage, inst.jurisdiction)}")
    lines.append(link)
    return "\n".join(line for line in lines if line)


def feed(
    entries: Sequence[CalendarEntry],
    *,
    name: str,
    link: Callable[[int], str],
    reminder_days: int = 0,
) -> bytes:
    """The feed of ``entries``; ``link(instrument_id)`` is the instrument page's address."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    for entry in entries:
        url = link(entry.instrument.id)
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", entry.stamp.astimezone(UTC))
        event.add("last-modified", entry.stamp.astimezone(UTC))
        event.add("dtstart", entry.day)  # a date: an all-day event (VALUE=DATE)
        event.add("dtend", entry.day + timedelta(days=1))
        event.add("summary", entry_summary(entry))
        event.add("description", _description(entry, url))
        event.add("url", url)
        event.add("transp", "TRANSPARENT")
        event.add("categories", [entry.kind, *entry.instrument.themes])
        if entry.kind == CONSULTATION and reminder_days > 0:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", entry_summary(entry))
            alarm.add("trigger", timedelta(days=-reminder_days))
            event.add_component(alarm)
        cal.add_component(event)
    data: bytes = cal.to_ical()
    return data
