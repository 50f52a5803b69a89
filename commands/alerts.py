"""`regwatch digest` and `regwatch alerts …`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from regwatch.config import Settings, SubscriptionConfig
from regwatch.errors import ConfigError, UsageError

if TYPE_CHECKING:
    pass

from regwatch.commands.common import load_settings, make_outbox, open_engine, plural
from regwatch.commands.output import emit, wants_json


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--date {text!r} is not a date; use YYYY-MM-DD") from None
    if not date(2000, 1, 1) <= day <= date.today() + timedelta(days=1):
        raise UsageError(f"--date {text}: use a day from 2000 to today")
    return day


def cmd_digest(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from regwatch.alerts.render import render_html, render_text
    from regwatch.alerts.report import digest_for, period_end, period_in_progress, write_digest

    s = load_settings(args)
    engine = open_engine(s, read=not args.send)
    now = datetime.now(UTC)
    day = _day(args.date)
    subs = [s.subscription(args.subscription)] if args.subscription else list(s.subscriptions)
    if args.send:
        return _send_digests(s, engine, subs, day, now)
    if not subs:  # no subscriptions yet: everything, over the configured window
        end = datetime.combine(day + timedelta(days=1), time(), UTC) if day else now
        hours = args.hours or s.digest.window_hours
        digests = [
            digest_for(
                engine,
                end,
                hours,
                s.digest.max_items_per_category,
                min_score=s.digest.min_score,
                sources={x.name for x in s.sources},
                quiet_days=s.digest.quiet_days,
                ui_url=s.web.public_url,
            )
        ]
    else:
        if args.out and len(subs) > 1:
            raise UsageError(
                "digest --out writes one digest; pick it with --subscription NAME "
                f"(one of {', '.join(x.name for x in subs)})"
            )
        outbox = make_outbox(s, engine)
        digests = []
        for sub in subs:  # by default the period in progress: what the next digest will say
            period = day or period_in_progress(sub, now)[0]
            digest = outbox.digest_of(sub, period)
            digests.append(replace(digest, in_progress=period_end(sub, period) > now))
    for digest in digests:
        if args.out:
            out = Path(args.out)
            files = write_digest(digest, out, out.with_suffix(".txt"))
            print(f"{digest.subject}\nwrote {files.html} and {files.text}")
        elif args.html:
            sys.stdout.write(render_html(digest))
        else:
            sys.stdout.write(render_text(digest))
    return 0


def _send_digests(
    s: Settings, engine: Engine, subs: list[SubscriptionConfig], day: date | None, now: datetime
) -> int:
    from regwatch.alerts.report import latest_period, period_end

    if not subs:
        raise ConfigError(
            f"{s.path}: no subscriptions to send to; add a [[subscriptions]] block "
            "with recipients (see the comments in config.toml)"
        )
    outbox = make_outbox(s, engine)
    for sub in subs:
        period = day or latest_period(sub, now)[0]
        if period_end(sub, period) > now:  # sending it now would leave its signals out
            raise UsageError(
                f"digest --send --date {period}: {sub.name}'s digest for that day is due at "
                f"{period_end(sub, period):%Y-%m-%d %H:%M} UTC; preview it instead, or send "
                "an earlier day"
            )
        if outbox.queue_digest(sub, period, now):
            print(f"{sub.name} {period}: queued")
        else:
            status = outbox.digest_status(sub, period)
            print(f"{sub.name} {period}: {status or 'nothing to send (no recipients)'}")
    report = outbox.deliver(now)
    print(report.line())
    for err in report.errors:
        print(f"  {err}", file=sys.stderr)
    return 0 if not (report.failed or report.retrying) else 3


def cmd_alerts_list(args: argparse.Namespace) -> int:
    s = load_settings(args)
    rows = make_outbox(s, open_engine(s, read=True)).rows(args.status, args.limit)
    if wants_json(args):
        emit(rows)
        return 0
    print(
        f"{'id':>6} {'subscription':<16} {'kind':<6} {'about':<14} {'channel':<18} "
        f"{'status':<8} {'tries':>5}  when / last error"
    )
    for r in rows:
        when = r.sent_at or r.next_attempt_at or r.created_at
        extra = (r.last_error or "")[:70] if r.status != "sent" else ""
        print(
            f"{r.id:>6} {r.subscription:<16} {r.kind:<6} {r.subject:<14} {r.channel:<18} "
            f"{r.status:<8} {r.attempts:>5}  {when:%Y-%m-%d %H:%M} {extra}"
        )
    return 0


def cmd_alerts_retry(args: argparse.Namespace) -> int:
    s = load_settings(args)
    engine = open_engine(s, read=True)
    _check_retryable(engine, args.ids)
    outbox = make_outbox(s, engine)
    n = outbox.retry(args.ids)
    print(f"{plural(n, 'failed delivery', 'failed deliveries')} queued again")
    report = outbox.deliver(datetime.now(UTC))
    print(report.line())
    return 0 if not (report.failed or report.retrying) else 3


def _check_retryable(engine: Engine, ids: list[int]) -> None:
    """Every id named is a delivery that failed: else say which is not, and why."""
    if not ids:
        return
    from sqlalchemy import select

    from regwatch.store import db
    from regwatch.store.models import Delivery

    with db.session_scope(engine) as session:
        found = dict(
            session.execute(select(Delivery.id, Delivery.status).where(Delivery.id.in_(ids))).all()
        )
    for i in ids:
        if i not in found:
            raise UsageError(
                f"alerts retry: there is no delivery {i}; 'regwatch alerts list --status failed' "
                "shows the ids of failed ones"
            )
        if found[i] != "failed":
            raise UsageError(
                f"alerts retry: delivery {i} is {found[i]}, not failed; only failed deliveries "
                "are sent again"
            )


def cmd_alerts_dispatch(args: argparse.Namespace) -> int:
    s = load_settings(args)
    report = make_outbox(s, open_engine(s)).dispatch()
    print(report.line())
    for err in report.errors:
        print(f"  {err}", file=sys.stderr)
    return 0 if not (report.failed or report.retrying) else 3
