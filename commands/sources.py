"""`regwatch collect` and `regwatch sources …`: poll, list, add, check, enable, disable, remove."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from regwatch.config import Settings
from regwatch.errors import UsageError

if TYPE_CHECKING:
    from regwatch.crawlers import Document
    from regwatch.pipeline import Preview
    from regwatch.store.queries import SourceHealth

from regwatch.commands.common import (
    fetch_policy,
    load_settings,
    make_evidence,
    make_fetcher,
    make_flagger,
    open_engine,
)
from regwatch.commands.output import emit, wants_json


@contextmanager
def _progress(total: int, verbose: bool) -> Iterator[Callable[[str], None] | None]:
    """On a terminal, a live bar of the sources polled (rich) with a line per source as it
    finishes; elsewhere nothing, or with -v the plain lines, for a log."""
    if not sys.stderr.isatty():
        yield (lambda line: print(line, file=sys.stderr, flush=True)) if verbose else None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (SpinnerColumn(), TextColumn("collecting"), BarColumn(), MofNCompleteColumn(),
               TextColumn("sources"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("collect", total=total)

        def report(line: str) -> None:
            bar.console.print(line, markup=False, highlight=False)
            bar.advance(task)

        yield report


def cmd_collect(args: argparse.Namespace) -> int:
    from regwatch.pipeline import collect_sources

    s = load_settings(args)
    sources = [s.source(args.source)] if args.source else list(s.sources)
    if args.source and not sources[0].enabled:
        raise UsageError(
            f"collect --source {args.source}: the source is disabled in {s.path}; "
            f"enable it first with 'regwatch sources enable {args.source}'"
        )
    engine = open_engine(s)
    flagger = make_flagger(s.nlp)
    live = _progress(sum(1 for x in sources if x.enabled), args.verbose)
    with make_fetcher(s) as fetcher, live as progress:
        summary = collect_sources(
            engine,
            flagger,
            fetcher,
            sources,
            max_wait=s.fetch.max_wait_hours * 3600,
            force=args.force,
            progress=progress,
            evidence=make_evidence(s),
        )
    if wants_json(args):
        emit(summary)
        return 0 if not summary.sources_failed else 3
    print(f"sources: {summary.sources_text()}; {summary.items_seen} items: {summary.counts_text()}")
    # Skipped items included: broken selectors show up there.
    for note in summary.notes():
        print(f"  {note}", file=sys.stderr)
    if summary.not_due:
        print("  (--force polls the sources that are not due now)", file=sys.stderr)
    return 0 if not summary.sources_failed else 3


def cmd_sources_list(args: argparse.Namespace) -> int:
    from regwatch.pipeline import source_spec
    from regwatch.store import db
    from regwatch.store.queries import source_health
    from regwatch.store.sources import sync_sources

    s = load_settings(args)
    engine = open_engine(s, read=True)
    with db.session_scope(engine) as session:
        sync_sources(session, (source_spec(x) for x in s.sources))
        rows = source_health(session, {x.name for x in s.sources})
    now = datetime.now(UTC)
    enabled = {x.name: x.enabled for x in s.sources}

    def state(r: SourceHealth) -> str:
        quiet = r.quiet_since(now, s.digest.quiet_days) is not None
        if not r.last_success_at and not r.consecutive_failures:
            return "new"
        return "failing" if r.consecutive_failures else "quiet" if quiet else "ok"

    if wants_json(args):
        emit(
            [
                {
                    "name": r.name,
                    "url": r.url,
                    "enabled": enabled.get(r.name, False),
                    "state": state(r),
                    "last_success_at": r.last_success_at,
                    "consecutive_failures": r.consecutive_failures,
                    "items_last_run": r.items_last_run,
                    "skipped_last_run": r.skipped_last_run,
                    "next_retry_at": r.next_retry_at,
                    "last_error": r.last_error,
                    "last_warning": r.last_warning,
                }
                for r in rows
            ]
        )
        return 0
    print(
        f"{'name':<20} {'on':<3} {'last success':<17} {'fails':>5} {'items':>5} "
        f"{'skip':>5} {'state':<7} {'next retry':<17} last error or warning"
    )
    for r in rows:
        ok = r.last_success_at.strftime("%Y-%m-%d %H:%M") if r.last_success_at else "never"
        on = "yes" if enabled.get(r.name, False) else "no"
        err = (r.last_error or "")[:80] if r.consecutive_failures else ""
        if not err and r.last_warning:
            err = f"warning: {r.last_warning[:71]}"
        retry = r.next_retry_at.strftime("%Y-%m-%d %H:%M") if r.next_retry_at else ""
        line = (
            f"{r.name:<20} {on:<3} {ok:<17} {r.consecutive_failures:>5} "
            f"{r.items_last_run:>5} {r.skipped_last_run:>5} {state(r):<7} {retry:<17} {err}"
        )
        print(line.rstrip())
    return 0


def _print_preview(settings: Settings, documents: list[Document]) -> None:
    from regwatch.pipeline import preview

    p = preview(make_flagger(settings.nlp), documents)
    _print_preview_of(p)


def _print_preview_of(p: Preview) -> None:
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
    from regwatch.config import COUNTRIES, LANGUAGES, SourceConfig, add_source
    from regwatch.config.checks import is_source_name, url_problem
    from regwatch.crawlers import Fetcher, collect
    from regwatch.crawlers.discover import discover

    s = load_settings(args)
    assert s.path is not None
    langs = [x for lang in args.lang or [] for x in lang.split(",") if x]
    bad = [x for x in langs if x not in LANGUAGES]
    if bad:
        raise UsageError(f"sources add: --lang {bad[0]!r} is not one of {' '.join(LANGUAGES)}")
    if args.country not in COUNTRIES:
        raise UsageError(f"sources add: --country must be one of {' '.join(COUNTRIES)}")
    if args.interval < 1:
        raise UsageError("sources add: --interval must be at least 1 (minutes)")
    problem = url_problem(args.url)
    if problem:
        raise UsageError(f"sources add: the URL {problem}")
    name = _source_name(args, args.url)
    if not is_source_name(name):
        raise UsageError(
            f"sources add: --name must be lowercase letters, digits, - or _ (e.g. 'kz-maidd'), "
            f"got {name!r}"
        )
    if any(x.name == name for x in s.sources):
        raise UsageError(f"sources add: a source named {name!r} exists; pick another --name")
    with Fetcher(fetch_policy(s.fetch)) as fetcher:
        found = discover(args.url, fetcher)
        same = [x.name for x in s.sources if x.url == found.url]
        if same:
            raise UsageError(f"sources add: {found.url} is already configured as {same[0]!r}")
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
        from regwatch.pipeline import language_of

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
    title = found.feed.title if found.feed else ""
    comment = f"Added by 'regwatch sources add {args.url}'. {title}"
    add_source(s.path, block, comment=comment, dry_run=args.dry_run)  # the same checks
    if args.dry_run:
        print(f"not saved (--dry-run); it would be [[sources]] {name!r} in {s.path}")
        return 0
    print(f"saved source {name!r} in {s.path}")
    return 0


def cmd_sources_check(args: argparse.Namespace) -> int:
    from regwatch.crawlers import collect
    from regwatch.pipeline import preview

    s = load_settings(args)
    src = s.source(args.name)
    with make_fetcher(s) as fetcher:
        got = collect(src, fetcher)
    p = preview(make_flagger(s.nlp), got.documents)
    if wants_json(args):
        emit({"source": src.name, "type": src.type, "url": src.url, "preview": p,
              "skipped": got.skipped})  # fmt: skip
        return 0
    print(f"{src.name}: {src.type} at {src.url} answers")
    _print_preview_of(p)
    for skipped in got.skipped[:10]:
        print(f"  skipped: {skipped}")
    return 0


def cmd_sources_toggle(args: argparse.Namespace) -> int:
    from regwatch.config import remove_source, set_source_enabled

    s = load_settings(args)
    assert s.path is not None
    s.source(args.name)  # unknown names fail with the list of known ones
    if args.sub == "remove":
        remove_source(s.path, args.name)
        print(f"removed source {args.name!r} from {s.path} (its stored documents stay)")
    else:
        set_source_enabled(s.path, args.name, args.sub == "enable")
        print(f"source {args.name!r} {args.sub}d in {s.path}")
    return 0
