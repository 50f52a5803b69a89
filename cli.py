"""``regwatch`` subcommands. Thin: parse arguments, call the domain, turn RegwatchError into
a message on stderr and an exit code (2 for configuration errors)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sqlalchemy import Engine

import logs
from config import Settings, SubscriptionConfig, default_config_path, load
from errors import ConfigError, RegwatchError

if TYPE_CHECKING:
    from alerts.outbox import Outbox
    from crawlers import Document, FetchPolicy
    from nlp import Flagger
    from store.analyst import SignalFilter

DOCUMENT_COLUMNS = ("url", "title", "text", "published", "source", "lang", "country")

__all__ = ["main"]


def _settings(args: argparse.Namespace) -> Settings:
    return load(args.config or default_config_path())


def _policy(settings: Settings) -> FetchPolicy:
    from crawlers import FetchPolicy

    f = settings.fetch
    return FetchPolicy(
        user_agent=f.user_agent,
        timeout=f.timeout,
        max_bytes=f.max_bytes,
        max_redirects=f.max_redirects,
        allow_private_networks=f.allow_private_networks,
        per_host_concurrency=f.per_host_concurrency,
        per_host_delay=f.per_host_delay,
    )


def _engine(settings: Settings) -> Engine:
    from store import db

    engine = db.make_engine(settings.database.url)
    db.upgrade(engine)
    return engine


def cmd_config_check(args: argparse.Namespace) -> int:
    s = _settings(args)
    crawled = [src for src in s.sources if src.type != "rss" and src.spider]
    if crawled:
        from crawlers.spiders import spider_class

        for src in crawled:  # site spiders live in code: checked here, not by the loader
            try:
                spider_class(src.type, src.spider)
            except ConfigError as exc:
                raise ConfigError(f"{s.path}: source {src.name!r}: {exc}") from None
    agents = [("fetch.user_agent", s.fetch.user_agent)]
    agents += [(f"source {x.name!r} user_agent", x.user_agent) for x in s.sources if x.user_agent]
    for key, agent in agents:
        if "set a contact" in agent or not ("@" in agent or "http" in agent):
            print(
                f"regwatch: warning: {key} has no contact; put an email address or URL in it "
                "so site owners can reach you before they block you",
                file=sys.stderr,
            )
    enabled = sum(1 for src in s.sources if src.enabled)
    print(
        f"{s.path}: OK — {len(s.sources)} sources ({enabled} enabled), "
        f"database {_redact(s.database.url)}"
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    s = _settings(args)
    _engine(s).dispose()
    print(f"database {_redact(s.database.url)} is at the latest schema")
    return 0


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cmd_collect(args: argparse.Namespace) -> int:
    from crawlers import Fetcher
    from nlp import Flagger
    from pipeline import collect_sources

    s = _settings(args)
    sources = [s.source(args.source)] if args.source else list(s.sources)
    engine = _engine(s)
    flagger = Flagger.from_folder(s.nlp.rules_dir or None, min_score=s.nlp.min_score)
    with Fetcher(_policy(s)) as fetcher:
        summary = collect_sources(
            engine,
            flagger,
            fetcher,
            sources,
            max_wait=s.fetch.max_wait_hours * 3600,
            force=args.force,
            progress=_progress if sys.stderr.isatty() or args.verbose else None,
        )
    o = summary.outcomes
    print(
        f"sources: {summary.sources_ok} ok ({len(summary.not_modified)} not modified), "
        f"{summary.sources_failed} failed, {len(summary.not_due)} not due; "
        f"items: {summary.items_seen} ({o['new']} new, {o['updated']} updated); "
        f"signals: {summary.signals_new} new"
    )
    for name, after in summary.not_due.items():
        print(f"  {name}: not due until {after:%Y-%m-%d %H:%M} UTC (--force polls it now)")
    for name, err in summary.errors.items():
        print(f"  {name}: {err}", file=sys.stderr)
    if summary.skipped:  # items a source could not give: broken selectors show up here
        print(f"  {len(summary.skipped)} items skipped:", file=sys.stderr)
        for item in summary.skipped[:20]:
            print(f"    {item}", file=sys.stderr)
    return 0 if not summary.sources_failed else 3


def cmd_sources_list(args: argparse.Namespace) -> int:
    from pipeline import source_spec
    from store import db
    from store.queries import source_health, sync_sources

    s = _settings(args)
    engine = _engine(s)
    with db.session_scope(engine) as session:
        sync_sources(session, (source_spec(x) for x in s.sources))
        rows = source_health(session, {x.name for x in s.sources})
    now = datetime.now(UTC)
    enabled = {x.name: x.enabled for x in s.sources}
    print(
        f"{'name':<20} {'on':<3} {'last success':<17} {'fails':>5} {'items':>5} "
        f"{'state':<7} {'next retry':<17} last error"
    )
    for r in rows:
        ok = r.last_success_at.strftime("%Y-%m-%d %H:%M") if r.last_success_at else "never"
        on = "yes" if enabled.get(r.name, False) else "no"
        err = (r.last_error or "")[:80] if r.consecutive_failures else ""
        quiet = r.quiet_since(now, s.digest.quiet_days) is not None
        state = "failing" if r.consecutive_failures else "quiet" if quiet else "ok"
        if not r.last_success_at and not r.consecutive_failures:
            state = "new"
        retry = r.next_retry_at.strftime("%Y-%m-%d %H:%M") if r.next_retry_at else ""
        print(
            f"{r.name:<20} {on:<3} {ok:<17} {r.consecutive_failures:>5} "
            f"{r.items_last_run:>5} {state:<7} {retry:<17} {err}".rstrip()
        )
    return 0


def _print_preview(settings: Settings, documents: list[Document]) -> None:
    from nlp import Flagger
    from pipeline import preview

    flagger = Flagger.from_folder(settings.nlp.rules_dir or None, min_score=settings.nlp.min_score)
    p = preview(flagger, documents)
    langs = ", ".join(f"{k} {v}" for k, v in sorted(p.languages.items(), key=lambda x: -x[1]))
    print(f"items: {p.items}" + (f" (languages: {langs})" if langs else ""))
    for title in p.titles:
        print(f"  - {title[:100]}")
    sigs = ", ".join(f"{k} {v}" for k, v in sorted(p.signals.items(), key=lambda x: -x[1]))
    print(f"signals they would raise: {sigs or 'none'}")


def _source_name(args: argparse.Namespace, url: str) -> str:
    import re
    from urllib.parse import urlsplit

    if args.name:
        return str(args.name)
    host = (urlsplit(url).hostname or "source").removeprefix("www.")
    return re.sub(r"[^a-z0-9_-]+", "-", host.lower()).strip("-")[:64] or "source"


def cmd_sources_add(args: argparse.Namespace) -> int:
    from config import COUNTRIES, LANGUAGES, SourceConfig, add_source
    from crawlers import Fetcher, collect
    from crawlers.discover import discover

    s = _settings(args)
    assert s.path is not None
    langs = [x for lang in args.lang or [] for x in lang.split(",") if x]
    bad = [x for x in langs if x not in LANGUAGES]
    if bad:
        raise ConfigError(f"sources add: --lang {bad[0]!r} is not one of {' '.join(LANGUAGES)}")
    if args.country not in COUNTRIES:
        raise ConfigError(f"sources add: --country must be one of {' '.join(COUNTRIES)}")
    if args.interval < 1:
        raise ConfigError("sources add: --interval must be at least 1 (minutes)")
    name = _source_name(args, args.url)
    if any(x.name == name for x in s.sources):
        raise ConfigError(f"sources add: a source named {name!r} exists; pick another --name")
    with Fetcher(_policy(s)) as fetcher:
        found = discover(args.url, fetcher)
        same = [x.name for x in s.sources if x.url == found.url]
        if same:
            raise ConfigError(f"sources add: {found.url} is already configured as {same[0]!r}")
        print(f"{args.url}: {found.type} at {found.url}")
        if found.others:
            print(f"  (the page announces {len(found.others)} more: {', '.join(found.others)})")
        # A sitemap preview crawls a few articles only (politely: fetch.per_host_delay apart).
        trial = SourceConfig(
            name=name, url=found.url, type=found.type, country=args.country, max_articles=10
        )
        docs = found.feed.documents if found.feed else collect(trial, fetcher).documents
    _print_preview(s, docs)
    if not langs:
        from pipeline import language_of

        seen = {language_of(d) for d in docs} | {found.page_lang or ""}
        langs = [x for x in LANGUAGES if x in seen] or ["ru"]
    block: dict[str, object] = {
        "name": name,
        "url": found.url,
        "type": found.type,
        "country": args.country,
        "languages": langs,
        "tier": args.tier,
    }
    if args.interval != 60:
        block["interval_minutes"] = args.interval
    if args.dry_run:
        print(f"not saved (--dry-run); it would be [[sources]] {name!r} in {s.path}")
        return 0
    title = found.feed.title if found.feed else ""
    add_source(s.path, block, comment=f"Added by 'regwatch sources add {args.url}'. {title}")
    print(f"saved source {name!r} in {s.path}")
    return 0


def cmd_sources_check(args: argparse.Namespace) -> int:
    from crawlers import Fetcher, collect

    s = _settings(args)
    src = s.source(args.name)
    with Fetcher(_policy(s)) as fetcher:
        got = collect(src, fetcher)
    print(f"{src.name}: {src.type} at {src.url} answers")
    _print_preview(s, got.documents)
    for skipped in got.skipped[:10]:
        print(f"  skipped: {skipped}")
    return 0


def cmd_sources_toggle(args: argparse.Namespace) -> int:
    from config import remove_source, set_source_enabled

    s = _settings(args)
    assert s.path is not None
    s.source(args.name)  # unknown names fail with the list of known ones
    if args.sub == "remove":
        remove_source(s.path, args.name)
        print(f"removed source {args.name!r} from {s.path} (its stored documents stay)")
    else:
        set_source_enabled(s.path, args.name, args.sub == "enable")
        print(f"source {args.name!r} {args.sub}d in {s.path}")
    return 0


def _outbox(s: Settings, engine: Engine) -> Outbox:
    from alerts.outbox import Outbox

    return Outbox(
        engine,
        subscriptions=s.subscriptions,
        smtp=s.smtp,
        delivery=s.delivery,
        digest=s.digest,
        allow_private_networks=s.fetch.allow_private_networks,
        sources={x.name for x in s.sources},
    )


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--date {text!r} is not a date; use YYYY-MM-DD") from None
    if not date(2000, 1, 1) <= day <= date.today() + timedelta(days=1):
        raise ConfigError(f"--date {text}: use a day from 2000 to today")
    return day


def cmd_digest(args: argparse.Namespace) -> int:
    from alerts.render import render_html, render_text
    from alerts.report import digest_for, latest_period, write_digest

    s = _settings(args)
    engine = _engine(s)
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
            )
        ]
    else:
        if args.out and len(subs) > 1:
            raise ConfigError(
                "digest --out writes one digest; pick it with --subscription NAME "
                f"(one of {', '.join(x.name for x in subs)})"
            )
        outbox = _outbox(s, engine)
        digests = [outbox.digest_of(sub, day or latest_period(sub, now)[0]) for sub in subs]
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
    from alerts.report import latest_period, period_end

    if not subs:
        raise ConfigError(
            f"{s.path}: no subscriptions to send to; add a [[subscriptions]] block "
            "with recipients (see the comments in config.toml)"
        )
    outbox = _outbox(s, engine)
    for sub in subs:
        period = day or latest_period(sub, now)[0]
        if period_end(sub, period) > now:  # sending it now would leave its signals out
            raise ConfigError(
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
    s = _settings(args)
    rows = _outbox(s, _engine(s)).rows(args.status, args.limit)
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
    s = _settings(args)
    outbox = _outbox(s, _engine(s))
    n = outbox.retry(args.ids)
    print(f"{n} failed deliveries queued again")
    report = outbox.deliver(datetime.now(UTC))
    print(report.line())
    return 0 if not (report.failed or report.retrying) else 3


def cmd_alerts_dispatch(args: argparse.Namespace) -> int:
    s = _settings(args)
    report = _outbox(s, _engine(s)).dispatch()
    print(report.line())
    for err in report.errors:
        print(f"  {err}", file=sys.stderr)
    return 0 if not (report.failed or report.retrying) else 3


def _when(text: str | None, flag: str) -> datetime | None:
    """An instant from YYYY-MM-DD, an ISO 8601 time, or a span back from now: 36h, 7d, 2w."""
    if text is None:
        return None
    units = {"h": 1, "d": 24, "w": 24 * 7}
    value = text.strip()
    if value[:-1].isdigit() and value[-1:] in units:
        return datetime.now(UTC) - timedelta(hours=int(value[:-1]) * units[value[-1]])
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{flag} {text!r}: use a date (2026-11-01), a time (2026-11-01T08:00+05:00) "
            "or a span back from now (36h, 7d, 2w)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _signal_filter(args: argparse.Namespace) -> SignalFilter:
    from store.analyst import SignalFilter

    def many(values: list[str] | None) -> tuple[str, ...]:
        return tuple(v.strip() for value in values or () for v in value.split(",") if v.strip())

    if not 0.0 <= args.min_score <= 1.0:
        raise ConfigError(f"--min-score {args.min_score}: use a score within 0..1")
    return SignalFilter(
        categories=many(args.category),
        countries=many(args.country),
        sources=many(args.source),
        languages=many(args.lang),
        since=_when(args.since, "--since"),
        until=_when(args.until, "--until"),
        min_score=args.min_score,
        text=args.text or "",
    )


def cmd_query(args: argparse.Namespace) -> int:
    from store import db
    from store.analyst import COLUMNS, iter_signals
    from store.export import write_rows

    s = _settings(args)
    engine = _engine(s)
    flt = _signal_filter(args)
    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit {args.limit}: use a positive number")
    with db.session_scope(engine) as session:
        rows = iter_signals(session, flt, args.sort, args.limit)
        n = write_rows(rows, COLUMNS, args.format, sys.stdout)
    if args.format == "table":
        print(f"({n} signals)", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from store import db
    from store.analyst import COLUMNS, SignalFilter, iter_documents, iter_signals
    from store.export import write_rows

    s = _settings(args)
    engine = _engine(s)
    out: TextIO = (
        open(args.out, "w", encoding="utf-8", newline="")  # noqa: SIM115
        if args.out
        else sys.stdout
    )
    try:
        with db.session_scope(engine) as session:
            if args.what == "documents":
                rows = iter_documents(session)
                n = write_rows(rows, DOCUMENT_COLUMNS, args.format, out)
            else:
                signals = iter_signals(session, SignalFilter(), "oldest")
                n = write_rows(signals, COLUMNS, args.format, out)
    finally:
        if args.out:
            out.close()
    print(f"exported {n} {args.what}" + (f" to {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from crawlers.imports import read_documents
    from nlp import Flagger
    from nlp.jsonl import read_lines
    from pipeline import import_documents

    s = _settings(args)
    engine = _engine(s)
    flagger = Flagger.from_folder(s.nlp.rules_dir or None, min_score=s.nlp.min_score)
    try:
        stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
    except OSError as exc:
        raise ConfigError(f"import: cannot read {args.file}: {exc.strerror}") from None
    with stream:
        summary = import_documents(
            engine, flagger, read_documents(read_lines(stream)), s.sources
        )
    o = summary.outcomes
    print(
        f"imported {summary.items_seen} documents: {o['new']} new, {o['updated']} updated, "
        f"{o['unchanged']} unchanged, {o['duplicate']} duplicates; "
        f"{summary.signals_new} new signals; {len(summary.skipped)} lines skipped"
    )
    for err in summary.skipped[:50]:
        print(f"  {err}", file=sys.stderr)
    return 0 if not summary.skipped else 3


def cmd_run(args: argparse.Namespace) -> int:
    import asyncio
    import time

    from crawlers import Fetcher
    from crawlers.crawl import stop_crawls
    from metrics import Metrics
    from nlp import Flagger
    from pipeline import collect_sources
    from scheduler import Service, SourceJob, digest_times, jobs_for
    from store import db
    from store.lock import InstanceLock

    s = _settings(args)
    engine = _engine(s)
    with InstanceLock(engine):  # before anything else: one service per database
        flagger = Flagger.from_folder(s.nlp.rules_dir or None, min_score=s.nlp.min_score)
        max_wait = s.fetch.max_wait_hours * 3600
        if args.once:
            return _run_once(s, engine, flagger, max_wait)
        metrics = Metrics()
        if s.service.metrics_port:
            metrics.serve(s.service.metrics_host, s.service.metrics_port)
        with Fetcher(_policy(s)) as fetcher:
            outbox = [_outbox(s, engine)]  # replaced when the configuration changes
            watched = s.path or default_config_path()
            seen = [_mtime(watched)]

            def reload(force: bool) -> list[SourceJob] | None:
                """New jobs when config.toml changed (`sources add`, an edit) or on SIGHUP."""
                stamp = _mtime(watched)
                if not force and stamp == seen[0]:
                    return None
                seen[0] = stamp
                fresh = load(watched)  # a broken edit raises: the service keeps its jobs
                outbox[0] = _outbox(fresh, engine)
                return jobs_for(fresh.sources)

            service = Service(
                jobs_for(s.sources),
                lambda src: metrics.poll(
                    src.name,
                    collect_sources(
                        engine, flagger, fetcher, [src], max_wait=max_wait, loop=service.loop
                    ),
                    time.time(),
                ),
                dispatch=lambda: metrics.dispatch(outbox[0].dispatch()),
                dispatch_every=s.service.dispatch_seconds,
                on_stop=stop_crawls,
                reload=reload,
                digests=digest_times(s.subscriptions),
                maintenance=lambda: db.maintain(engine),
            )
            asyncio.run(service.run())
    engine.dispose()
    return 0


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _run_once(s: Settings, engine: Engine, flagger: Flagger, max_wait: float) -> int:
    """One full cycle for cron or a systemd timer: poll every due source, flag, store, then
    queue and send alerts and due digests."""
    from crawlers import Fetcher
    from pipeline import collect_sources
    from status import due_sources

    due = due_sources(engine, s.sources, datetime.now(UTC))
    with Fetcher(_policy(s)) as fetcher:
        summary = collect_sources(engine, flagger, fetcher, due, max_wait=max_wait)
    report = _outbox(s, engine).dispatch()
    o = summary.outcomes
    print(
        f"run --once: {len(due)} sources due — {summary.sources_ok} ok, "
        f"{summary.sources_failed} failed; {o['new']} new, {o['updated']} updated documents; "
        f"{summary.signals_new} signals\n{report.line()}"
    )
    for name, err in summary.errors.items():
        print(f"  {name}: {err}", file=sys.stderr)
    for err in report.errors:
        print(f"  {err}", file=sys.stderr)
    engine.dispose()
    return 0 if not (summary.sources_failed or report.failed or report.retrying) else 3


def cmd_status(args: argparse.Namespace) -> int:
    import json

    from status import read_status

    s = _settings(args)
    engine = _engine(s)
    status = read_status(engine, s.sources, s.subscriptions, datetime.now(UTC))
    engine.dispose()
    if args.format == "json":
        print(json.dumps(status.as_json(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(status.lines()))
    return 0 if status.healthy else 1


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from store import db
    from web import WebOptions, create_app, is_loopback

    s = _settings(args)
    host = args.host or s.web.host
    port = s.web.port if args.port is None else args.port
    if not 0 <= port < 65536:
        raise ConfigError(f"serve --port {port}: use a port within 1..65535")
    token = os.environ.get(s.web.token_env, "")
    if token and len(token) < 16:
        raise ConfigError(
            f"serve: ${s.web.token_env} is shorter than 16 characters; use a random one: "
            f"export {s.web.token_env}=$(python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')"
        )
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"serve: binding {host} exposes the signals beyond this machine; set a token "
            f"first (export {s.web.token_env}=$(python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')) or bind 127.0.0.1"
        )
    _engine(s).dispose()  # upgrade the schema with a writing engine, then only read
    engine = db.make_engine(s.database.url, readonly=True)
    options = WebOptions(token=token, page_size=s.web.page_size, quiet_days=s.digest.quiet_days)
    where = f"[{host}]" if ":" in host else host
    print(
        f"regwatch web UI on http://{where}:{port}/ (read-only"
        + (f"; token from ${s.web.token_env}" if token else "; this machine only")
        + ")",
        file=sys.stderr,
    )
    uvicorn.run(
        create_app(engine, options),
        host=host,
        port=port,
        log_level="info" if args.verbose else "warning",
        server_header=False,
        proxy_headers=False,
    )
    engine.dispose()
    return 0


def _flagger_settings(args: argparse.Namespace) -> tuple[str | None, float]:
    """Rules folder and minimum score: from the config file when there is one."""
    path = args.config or default_config_path()
    if args.config or Path(path).exists():
        s = _settings(args)
        return s.nlp.rules_dir or None, s.nlp.min_score
    return None, 0.3


def cmd_flag(args: argparse.Namespace) -> int:
    import json

    from nlp import Flagger
    from nlp.jsonl import flag_lines, read_lines

    rules_dir, min_score = _flagger_settings(args)
    flagger = Flagger.from_folder(rules_dir, min_score=min_score)
    try:
        source = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
    except OSError as exc:
        print(f"regwatch: flag: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    with source:
        lines = read_lines(source)
        for out in flag_lines(lines, flagger, workers=args.workers, rules_dir=rules_dir):
            sys.stdout.write(json.dumps(out, ensure_ascii=False, allow_nan=False) + "\n")
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from nlp import Flagger
    from pipeline import backtest

    s = _settings(args)
    engine = _engine(s)
    rules_dir = args.rules or s.nlp.rules_dir or None
    flagger = Flagger.from_folder(rules_dir, min_score=s.nlp.min_score)
    report = backtest(engine, flagger, limit=args.limit)
    print("\n".join(report.lines(show=args.show)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from demo import run_demo

    report = run_demo(Path(args.out))
    print("\n".join(report.lines()))
    return 0


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="regwatch", description=__doc__)
    p.add_argument(
        "--config",
        metavar="PATH",
        help="settings file (default: $REGWATCH_CONFIG or ./config.toml)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    p.add_argument(
        "--log-json",
        action="store_true",
        help="log one JSON object per line (also REGWATCH_LOG_FORMAT=json)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    cfg = sub.add_parser("config", help="configuration").add_subparsers(dest="sub", required=True)
    cfg.add_parser("check", help="validate the configuration").set_defaults(func=cmd_config_check)

    dbp = sub.add_parser("db", help="database").add_subparsers(dest="sub", required=True)
    dbp.add_parser("upgrade", help="upgrade the schema to the latest migration").set_defaults(
        func=cmd_db_upgrade
    )

    col = sub.add_parser("collect", help="poll sources once: fetch, flag, store")
    col.add_argument("--source", metavar="NAME", help="only this source")
    col.add_argument(
        "--force",
        action="store_true",
        help="poll even sources that asked to be left alone for now (Retry-After, TTL, back-off)",
    )
    col.set_defaults(func=cmd_collect)

    src = sub.add_parser("sources", help="sources").add_subparsers(dest="sub", required=True)
    src.add_parser("list", help="sources and their health").set_defaults(func=cmd_sources_list)
    add = src.add_parser("add", help="discover a feed or sitemap, preview it, add it to config")
    add.add_argument("url", help="a feed, a sitemap, or a page announcing its feed")
    add.add_argument("--name", help="short unique name (default: from the host)")
    add.add_argument("--country", default="regional", help="kz kg tj tm uz or regional")
    add.add_argument("--lang", action="append", help="language(s): en ru kk ky tg uz")
    add.add_argument("--tier", default="news", choices=["official", "news", "analysis"])
    add.add_argument("--interval", type=int, default=60, help="minutes between polls")
    add.add_argument("--dry-run", action="store_true", help="preview only; change nothing")
    add.set_defaults(func=cmd_sources_add)
    chk = src.add_parser("check", help="test-fetch a configured source and preview it")
    chk.add_argument("name")
    chk.set_defaults(func=cmd_sources_check)
    for verb, what in (
        ("remove", "remove from"),
        ("enable", "enable in"),
        ("disable", "disable in"),
    ):
        cmd = src.add_parser(verb, help=f"{what} config.toml, keeping its comments")
        cmd.add_argument("name")
        cmd.set_defaults(func=cmd_sources_toggle)

    dig = sub.add_parser("digest", help="preview or send the daily digest")
    mode = dig.add_mutually_exclusive_group()
    mode.add_argument("--preview", action="store_true", help="render without sending (default)")
    mode.add_argument("--send", action="store_true", help="queue the digest and send it (once)")
    dig.add_argument("--subscription", metavar="NAME", help="only this subscription")
    dig.add_argument("--date", metavar="YYYY-MM-DD", help="the local day (default: the latest)")
    dig.add_argument("--hours", type=int, help="without subscriptions: hours covered")
    dig.add_argument("--out", metavar="FILE.html", help="write HTML here and .txt beside it")
    dig.add_argument("--html", action="store_true", help="print HTML instead of text")
    dig.set_defaults(func=cmd_digest)

    alr = sub.add_parser("alerts", help="the delivery outbox").add_subparsers(
        dest="sub", required=True
    )
    lst = alr.add_parser("list", help="recent deliveries and their status")
    lst.add_argument("--status", choices=["pending", "sending", "sent", "failed", "skipped"])
    lst.add_argument("--limit", type=int, default=50)
    lst.set_defaults(func=cmd_alerts_list)
    rty = alr.add_parser("retry", help="send failed deliveries again")
    rty.add_argument("ids", nargs="*", type=int, help="delivery ids (default: every failed one)")
    rty.set_defaults(func=cmd_alerts_retry)
    alr.add_parser(
        "dispatch", help="one cycle: queue new alerts and due digests, send what is due"
    ).set_defaults(func=cmd_alerts_dispatch)

    flg = sub.add_parser("flag", help="flag JSON Lines documents (id, text, title, lang, url)")
    flg.add_argument("file", nargs="?", default="-", help="JSON Lines file, or - for stdin")
    flg.add_argument("--workers", type=int, default=1, help="processes to flag with")
    flg.set_defaults(func=cmd_flag)

    bt = sub.add_parser("backtest", help="compare current rules with the stored signals")
    bt.add_argument("--rules", metavar="DIR", help="rules folder to try (default: the configured)")
    bt.add_argument("--limit", type=int, help="only the N most recently seen documents")
    bt.add_argument("--show", type=int, default=20, help="changed signals to list (default 20)")
    bt.set_defaults(func=cmd_backtest)

    qry = sub.add_parser("query", help="signals with their documents, filtered and sorted")
    _query_arguments(qry)
    qry.set_defaults(func=cmd_query)

    exp = sub.add_parser("export", help="a full dump of the signals (or documents)")
    exp.add_argument("--what", choices=["signals", "documents"], default="signals")
    exp.add_argument("--format", choices=["jsonl", "csv", "json"], default="jsonl")
    exp.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    exp.set_defaults(func=cmd_export)

    imp = sub.add_parser(
        "import", help="ingest documents from JSON Lines (url, title, text, published, …)"
    )
    imp.add_argument("file", help="JSON Lines file, or - for stdin")
    imp.set_defaults(func=cmd_import)

    sts = sub.add_parser("status", help="jobs, runs, health, outbox; exit 1 when unhealthy")
    sts.add_argument("--format", choices=["text", "json"], default="text")
    sts.set_defaults(func=cmd_status)

    run = sub.add_parser("run", help="the long-running service: poll each source on schedule")
    run.add_argument(
        "--once",
        action="store_true",
        help="one full cycle (due sources, alerts, due digests), then exit — for cron",
    )
    run.set_defaults(func=cmd_run)

    srv = sub.add_parser("serve", help="the read-only web UI and JSON API")
    srv.add_argument("--host", help="address to bind (default web.host: 127.0.0.1)")
    srv.add_argument("--port", type=int, help="TCP port (default web.port: 8000)")
    srv.set_defaults(func=cmd_serve)

    dem = sub.add_parser("demo", help="run the whole pipeline on bundled sample sources")
    dem.add_argument(
        "--out",
        default="demo-out",
        metavar="DIR",
        help="where regwatch.db, digest.html and digest.txt go (default: demo-out)",
    )
    dem.set_defaults(func=cmd_demo)
    return p


def _query_arguments(p: argparse.ArgumentParser) -> None:
    from store.analyst import SORTS
    from store.export import FORMATS

    for flag, what in (
        ("--category", "category id"),
        ("--country", "country code (source or mention)"),
        ("--source", "source name"),
        ("--lang", "language code"),
    ):
        p.add_argument(
            flag, action="append", metavar="X[,Y]", help=f"{what}; repeat or comma-separate"
        )
    p.add_argument("--since", metavar="WHEN", help="detected at or after: 2026-11-01, 7d, 36h")
    p.add_argument("--until", metavar="WHEN", help="detected before")
    p.add_argument("--min-score", type=float, default=0.0, metavar="S")
    p.add_argument(
        "--text",
        metavar="QUERY",
        help='full-text search: words, "phrases", AND, OR, NOT, ( ); every inflection matches',
    )
    p.add_argument("--limit", type=int, default=None, metavar="N", help="at most N rows")
    p.add_argument("--sort", choices=list(SORTS), default="score")
    p.add_argument("--format", choices=list(FORMATS), default="table")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(args.verbose or args.command == "run", True if args.log_json else None)
    try:
        return int(args.func(args))
    except RegwatchError as exc:
        print(f"regwatch: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
