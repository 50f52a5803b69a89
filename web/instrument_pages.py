"""The instrument pages — /instruments (filter by country, stage, theme; open consultations
first), /instruments/ID (stage timeline, versions with what changed, documents in every
language, archived captures) — and the calendar: /calendar and its iCalendar feed
/calendar.ics, for one subscription (``?subscription=NAME``: its countries and categories) or
the page's filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from regwatch.alerts.instrument_news import matches
from regwatch.config import SubscriptionConfig
from regwatch.instruments.vocabulary import JURISDICTIONS, Stage, stage_label
from regwatch.store.deadlines import CalendarEntry, calendar_entries
from regwatch.store.instruments import list_instruments
from regwatch.web.deps import session
from regwatch.web.ics import feed
from regwatch.web.instrument_views import instrument_page
from regwatch.web.pages import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Db = Annotated[Session, Depends(session)]
PAST_DAYS = 30  # the calendar page starts this many days back
FEED_PAST_DAYS = 365  # the feed keeps a year of past entries


@dataclass(frozen=True)
class Filters:
    country: str = ""
    stage: str = ""
    theme: str = ""
    subscription: str = ""
    error: str = ""

    def query(self, **change: str) -> str:
        values = {
            "country": self.country,
            "stage": self.stage,
            "theme": self.theme,
            "subscription": self.subscription,
        }
        values.update(change)
        kept = {k: v for k, v in values.items() if v}
        return f"?{urlencode(kept)}" if kept else ""


def filters(
    country: Annotated[str, Query(description="kz uz kg tj tm intl")] = "",
    stage: Annotated[str, Query(description="a stage, e.g. public_discussion")] = "",
    theme: Annotated[str, Query(description="a signal category")] = "",
    subscription: Annotated[str, Query(description="a subscription's name")] = "",
) -> Filters:
    country, stage, theme, subscription = (v.strip() for v in (country, stage, theme, subscription))
    error = ""
    if country and country not in JURISDICTIONS:
        error = f"country {country!r} is not one of {', '.join(JURISDICTIONS)}"
    elif stage and stage not in {s.value for s in Stage}:
        error = f"stage {stage!r} is not one of {', '.join(s.value for s in Stage)}"
    return Filters(country, stage, theme, subscription, error)


Filtered = Annotated[Filters, Depends(filters)]


def _subscription(request: Request, name: str) -> SubscriptionConfig | str:
    """The configured subscription ``name``, or why there is none."""
    subs: tuple[SubscriptionConfig, ...] = request.app.state.options.subscriptions
    for sub in subs:
        if sub.name == name:
            return sub
    known = ", ".join(s.name for s in subs) or "none configured"
    return f"there is no subscription {name!r} (known: {known}; [[subscriptions]] in config.toml)"


def _choices() -> dict[str, list[tuple[str, str]]]:
    return {
        "country": [(k, v) for k, v in JURISDICTIONS.items()],
        "stage": [(s.value, stage_label(s)) for s in Stage],
    }


def _today() -> date:
    return datetime.now(UTC).date()


@router.api_route("/instruments", methods=["GET", "HEAD"], response_class=HTMLResponse)
def instruments_page(f: Filtered, s: Db) -> HTMLResponse:
    today = _today()
    if f.error:
        return render("instruments.html.j2", 400, f=f, error=f.error, rows=[], today=today,
                      choices=_choices())  # fmt: skip
    rows = list_instruments(
        s,
        country=f.country or None,
        stage=f.stage or None,
        theme=f.theme or None,
        today=today,
    )
    return render("instruments.html.j2", f=f, error="", rows=rows, today=today, choices=_choices())


@router.api_route(
    "/instruments/{instrument_id}", methods=["GET", "HEAD"], response_class=HTMLResponse
)
def instrument_detail(instrument_id: int, s: Db) -> HTMLResponse:
    page = instrument_page(s, instrument_id)
    if page is None:
        return render("message.html.j2", 404, title="Not found",
                      message=f"There is no instrument {instrument_id}.")  # fmt: skip
    if page.detail.instrument.merged_into is not None:
        target = page.detail.instrument.merged_into
        return render("message.html.j2", 200, title="Merged",
                      message=f"Instrument {instrument_id} was merged into instrument {target}: "
                      f"see /instruments/{target}.")  # fmt: skip
    return render("instrument.html.j2", p=page, today=_today())


def _entries(
    request: Request, f: Filters, s: Session, since: date
) -> tuple[list[CalendarEntry], str, int]:
    """The calendar's entries for the filters, the calendar's name and the reminder days;
    raises ValueError with the message when the subscription is unknown."""
    keep = None
    name = "regwatch instruments"
    days = 0
    if f.subscription:
        sub = _subscription(request, f.subscription)
        if isinstance(sub, str):
            raise ValueError(sub)
        keep = partial(matches, sub)
        name = f"regwatch · {sub.name}"
        days = sub.reminder_days
    entries = calendar_entries(
        s,
        country=f.country or None,
        stage=f.stage or None,
        theme=f.theme or None,
        keep=keep,
        since=since,
    )
    return entries, name, days


@router.api_route("/calendar", methods=["GET", "HEAD"], response_class=HTMLResponse)
def calendar_page(request: Request, f: Filtered, s: Db) -> HTMLResponse:
    today = _today()
    context: dict[str, Any] = {"f": f, "today": today, "choices": _choices()}
    if f.error:
        return render("calendar.html.j2", 400, error=f.error, entries=[], **context)
    try:
        entries, name, _ = _entries(request, f, s, today - timedelta(days=PAST_DAYS))
    except ValueError as exc:
        return render("calendar.html.j2", 404, error=str(exc), entries=[], **context)
    return render("calendar.html.j2", error="", entries=entries, cal_name=name, **context)


@router.api_route("/calendar.ics", methods=["GET", "HEAD"], response_model=None)
def calendar_feed(request: Request, f: Filtered, s: Db) -> Response:
    if f.error:
        return render("message.html.j2", 400, title="Cannot build the calendar", message=f.error)
    try:
        entries, name, days = _entries(request, f, s, _today() - timedelta(days=FEED_PAST_DAYS))
    except ValueError as exc:
        return render("message.html.j2", 404, title="Not found", message=str(exc))
    body = feed(
        entries,
        name=name,
        link=lambda i: str(request.url_for("instrument_detail", instrument_id=i)),
        reminder_days=days,
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"content-disposition": 'inline; filename="regwatch.ics"'},
    )
