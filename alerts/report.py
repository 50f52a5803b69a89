"""Read the store and produce a digest — for a subscription's period, or for everything — and
write it to files."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from regwatch.alerts.digest import Digest, build_digest, glance
from regwatch.alerts.instrument_news import (
    ClosingNews,
    StageNews,
    closing_news,
    matches,
    stage_news,
    with_page,
)
from regwatch.alerts.render import render_html, render_text
from regwatch.config import SubscriptionConfig
from regwatch.errors import DeliveryError
from regwatch.store import db
from regwatch.store.analyst import text_documents
from regwatch.store.instruments import consultations_closing, stage_changes_since
from regwatch.store.queries import SignalRow, signals_between, source_health

__all__ = [
    "DigestFiles",
    "digest_for",
    "instrument_news",
    "latest_period",
    "period_end",
    "period_in_progress",
    "subscription_digest",
    "wanted",
    "write_digest",
]

GLANCE_DAYS = 7
CLOSING_DAYS = 7  # the digest lists consultations closing within this many days


@dataclass(frozen=True)
class DigestFiles:
    html: Path
    text: Path


def wanted(
    sub: SubscriptionConfig,
    row: SignalRow,
    min_score: float | None = None,
    documents: Collection[int] = frozenset(),
) -> bool:
    """Whether a signal belongs to the subscription: its filters, and a minimum score
    (``sub.min_score`` unless given). A country matches by source or by mention; with a
    saved search (``sub.text``) the signal's document is one of ``documents``, those it
    matches (:func:`regwatch.store.analyst.text_documents`)."""
    if row.score < (sub.min_score if min_score is None else min_score):
        return False
    if sub.text.strip() and row.document_id not in documents:
        return False
    if sub.categories and row.category not in sub.categories:
        return False
    if sub.tiers and row.tier not in sub.tiers:
        return False
    if sub.languages and (row.lang or "") not in sub.languages:
        return False
    return not sub.countries or bool({row.country, *row.countries} & set(sub.countries))


def period_end(sub: SubscriptionConfig, local_day: date) -> datetime:
    """When the digest for ``local_day`` is due: digest_time there, as UTC."""
    local = datetime.combine(local_day, sub.digest_time, tzinfo=ZoneInfo(sub.timezone))
    return local.astimezone(UTC)


def latest_period(sub: SubscriptionConfig, now: datetime) -> tuple[date, datetime]:
    """The newest digest period that has ended by ``now``: its local day and its end."""
    day = now.astimezone(ZoneInfo(sub.timezone)).date()
    end = period_end(sub, day)
    if end > now:
        day -= timedelta(days=1)
        end = period_end(sub, day)
    return day, end


def period_in_progress(sub: SubscriptionConfig, now: datetime) -> tuple[date, datetime]:
    """The digest period that has not ended by ``now``: its local day and its end."""
    day, _ = latest_period(sub, now)
    return day + timedelta(days=1), period_end(sub, day + timedelta(days=1))


def subscription_digest(
    engine: Engine,
    sub: SubscriptionConfig,
    start: datetime,
    end: datetime,
    *,
    max_items: int,
    quiet_days: int,
    sources: Collection[str] | None = None,
    title: str | None = None,
    ui_url: str = "",
) -> Digest:
    """The digest of ``sub``'s signals detected in [start, end), with a 7-day glance."""
    since = min(start, end - timedelta(days=GLANCE_DAYS))
    with db.session_scope(engine) as session:
        found = text_documents(session, sub.text)
        rows = [
            r
            for r in signals_between(session, since, end, sub.min_score)
            if wanted(sub, r, documents=found)
        ]
        health = source_health(session, sources)
    in_period = [r for r in rows if r.detected_at >= start]
    stages, closing = instrument_news(engine, sub, start, end)
    digest = build_digest(
        in_period,
        start,
        end,
        health,
        max_items,
        group_by=sub.group_by,
        quiet_days=quiet_days,
        glance=glance(rows, end, ZoneInfo(sub.timezone), sub.group_by, GLANCE_DAYS),
        title=title or f"regwatch · {sub.name}",
        day=end.astimezone(ZoneInfo(sub.timezone)).date(),
        ui_url=ui_url,
    )
    stages = tuple(with_page(n, ui_url) for n in stages)
    closing = tuple(with_page(n, ui_url) for n in closing)
    return replace(digest, stage_changes=stages, closing=closing, closing_days=CLOSING_DAYS)


def instrument_news(
    engine: Engine, sub: SubscriptionConfig, start: datetime, end: datetime
) -> tuple[tuple[StageNews, ...], tuple[ClosingNews, ...]]:
    """``sub``'s instruments that moved forward in [start, end), and those whose
    consultation closes within CLOSING_DAYS of the digest's local day."""
    today = end.astimezone(ZoneInfo(sub.timezone)).date()
    with db.session_scope(engine) as session:
        stages = tuple(
            stage_news(session, c)
            for c in stage_changes_since(session, start - timedelta(microseconds=1))
            if start <= c.recorded_at < end and matches(sub, c.instrument)
        )
        closing = tuple(
            closing_news(i, today)
            for i in consultations_closing(session, today, CLOSING_DAYS)
            if matches(sub, i)
        )
    return stages, closing


def digest_for(
    engine: Engine,
    end: datetime,
    window_hours: int,
    max_items: int,
    min_score: float = 0.0,
    sources: Collection[str] | None = None,
    quiet_days: int = 7,
    ui_url: str = "",
) -> Digest:
    """The digest of every signal detected in the ``window_hours`` before ``end`` (no
    subscription filters); the health section covers ``sources`` (the configured ones)."""
    everything = SubscriptionConfig(name="all", min_score=min_score, timezone="UTC")
    return subscription_digest(
        engine,
        everything,
        end - timedelta(hours=window_hours),
        end,
        max_items=max_items,
        quiet_days=quiet_days,
        sources=sources,
        title="regwatch digest",
        ui_url=ui_url,
    )


def write_digest(digest: Digest, html_path: Path, text_path: Path) -> DigestFiles:
    try:
        html_path.write_text(render_html(digest), encoding="utf-8")
        text_path.write_text(render_text(digest), encoding="utf-8")
    except OSError as exc:
        raise DeliveryError(f"digest: cannot write {exc.filename}: {exc.strerror}") from None
    return DigestFiles(html_path, text_path)
