"""What the alerts and the digest say about instruments (issue 16 §2): a stage change and a
consultation about to close, as plain data read once from the store, and which subscriptions
they are for.

A subscription matches an instrument as it matches a signal, on what an instrument has: its
``categories`` against the instrument's themes (the categories of its documents' signals) and
its ``countries`` against its jurisdiction ("intl" counts as "regional"). Tiers, languages, the
saved search and scores are properties of signals and do not apply.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from regwatch.config import SubscriptionConfig
from regwatch.instruments.vocabulary import JURISDICTIONS, stage_label
from regwatch.store.instruments import InstrumentSummary, StageChange
from regwatch.store.models import Document

__all__ = [
    "ClosingNews",
    "Reminder",
    "StageAlert",
    "StageNews",
    "closing_news",
    "country_of",
    "matches",
    "stage_news",
    "with_page",
]


def country_of(jurisdiction: str | None) -> str | None:
    """The subscription country an instrument's jurisdiction is ("intl" is "regional")."""
    return "regional" if jurisdiction == "intl" else jurisdiction


def matches(sub: SubscriptionConfig, instrument: InstrumentSummary) -> bool:
    """Whether ``instrument`` is for ``sub``: a theme among its categories and its country
    among its countries (each filter only when set)."""
    if sub.categories and not set(instrument.themes) & set(sub.categories):
        return False
    return not sub.countries or country_of(instrument.jurisdiction) in sub.countries


def _country_name(jurisdiction: str | None) -> str:
    return JURISDICTIONS.get(jurisdiction or "", "") if jurisdiction else ""


@dataclass(frozen=True)
class StageNews:
    """An instrument moved forward to ``stage``: the digest's line and the alert's body."""

    event_id: int
    instrument_id: int
    title: str
    kind: str | None
    number: str | None
    country: str  # the jurisdiction's name, "" when unknown
    stage: str  # the stage's label, with its chamber ("First reading (Mazhilis)")
    previous: str | None  # the label of the stage it left
    stage_date: date | None
    recorded_at: datetime
    evidence: str  # the sentence or the portal field
    document_title: str
    document_url: str
    consultation_end: date | None
    page: str = ""  # the instrument's page in the web UI (web.public_url set), else ""

    @property
    def subject(self) -> str:
        return f"[regwatch] {self.stage}: {self.title or '(untitled)'}"


@dataclass(frozen=True)
class ClosingNews:
    """A consultation that ends on ``end`` (the last day comments are accepted)."""

    instrument_id: int
    title: str
    kind: str | None
    number: str | None
    country: str
    stage: str | None
    end: date
    days_left: int  # from the day it is told (0: closes today)
    portal: str | None
    page: str = ""  # the instrument's page in the web UI (web.public_url set), else ""


News = TypeVar("News", StageNews, ClosingNews)


def with_page(news: News, ui_url: str) -> News:
    """``news`` linking the instrument's page under ``ui_url`` (web.public_url); as it is
    when no public address is set."""
    if not ui_url:
        return news
    return replace(news, page=f"{ui_url.rstrip('/')}/instruments/{news.instrument_id}")


def _labelled(instrument: InstrumentSummary) -> str | None:
    s = instrument.stage
    return stage_label(s, instrument.jurisdiction) if s is not None else None


def stage_news(session: Session, change: StageChange) -> StageNews:
    inst = change.instrument
    doc = (
        session.execute(
            select(Document.title, Document.url).where(Document.id == change.document_id)
        ).first()
        if change.document_id is not None
        else None
    )
    previous = (
        stage_label(change.previous, inst.jurisdiction) if change.previous is not None else None
    )
    return StageNews(
        event_id=change.event_id,
        instrument_id=inst.id,
        title=inst.label,
        kind=inst.kind,
        number=inst.number,
        country=_country_name(inst.jurisdiction),
        stage=stage_label(change.stage, inst.jurisdiction),
        previous=previous,
        stage_date=change.stage_date,
        recorded_at=change.recorded_at,
        evidence=change.evidence,
        document_title=doc[0] if doc else "",
        document_url=doc[1] if doc else "",
        consultation_end=inst.consultation_end,
    )


def closing_news(instrument: InstrumentSummary, today: date) -> ClosingNews:
    assert instrument.consultation_end is not None
    return ClosingNews(
        instrument_id=instrument.id,
        title=instrument.label,
        kind=instrument.kind,
        number=instrument.number,
        country=_country_name(instrument.jurisdiction),
        stage=_labelled(instrument),
        end=instrument.consultation_end,
        days_left=(instrument.consultation_end - today).days,
        portal=instrument.portal,
    )


@dataclass(frozen=True)
class StageAlert:
    """The message a stage change sends to one subscription."""

    subscription: str
    news: StageNews

    @property
    def subject(self) -> str:
        return self.news.subject


@dataclass(frozen=True)
class Reminder:
    """The message a consultation about to close sends to one subscription."""

    subscription: str
    news: ClosingNews
    reminder_days: int

    @property
    def subject(self) -> str:
        n = self.news
        when = (
            "closes today"
            if n.days_left == 0
            else f"closes in {n.days_left} day{'s' if n.days_left != 1 else ''}"
        )
        return f"[regwatch] Consultation {when} ({n.end.isoformat()}): {n.title or '(untitled)'}"
