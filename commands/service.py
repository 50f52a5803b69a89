"""`regwatch run` (the service, or one cycle with --once) and `regwatch status`."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from regwatch.commands.output import emit, wants_json
from regwatch.config import Settings, default_config_path, load

if TYPE_CHECKING:
    from regwatch.nlp import Flagger

from regwatch.commands.common import (
    load_settings,
    make_evidence,
    make_fetcher,
    make_flagger,
    make_outbox,
    open_engine,
    open_reader,
    plural,
)


def cmd_run(args: argparse.Namespace) -> int:
    import asyncio
    import time

    from regwatch.commands.evidence import maintain
    from regwatch.crawlers.crawl import stop_crawls
    from regwatch.metrics import Metrics
    from regwatch.pipeline import collect_sources
    from regwatch.scheduler import Service, SourceJob, digest_times, jobs_for
    from regwatch.store.lock import InstanceLock

    s = load_settings(args)
    engine = open_engine(s)
    with InstanceLock(engine):  # before anything else: one service per database
        flagger = make_flagger(s.nlp)
        max_wait = s.fetch.max_wait_hours * 3600
        if args.once:
            return _run_once(s, engine, flagger, max_wait, wants_json(args))
        metrics = Metrics()
        if s.service.metrics_port:
            metrics.serve(s.service.metrics_host, s.service.metrics_port)
        evidence = make_evidence(s)
        with make_fetcher(s) as fetcher:
            outbox = [make_outbox(s, engine)]  # replaced when the configuration changes
            watched = s.path or default_config_path()
            seen = [_mtime(watched)]

            def reload(force: bool) -> list[SourceJob] | None:
                """New jobs when config.toml changed (`sources add`, an edit) or on SIGHUP."""
                stamp = _mtime(watched)
                if not force and stamp == seen[0]:
                    return None
                seen[0] = stamp
                fresh = load(watched)  # a broken edit raises: the service keeps its jobs
                outbox[0] = make_outbox(fresh, engine)
                return jobs_for(fresh.sources)

            service = Service(
                jobs_for(s.sources),
                lambda src: metrics.poll(
                    src.name,
                    collect_sources(
                        engine, flagger, fetcher, [src], max_wait=max_wait, evidence=evidence
                    ),
                    time.time(),
                ),
                dispatch=lambda: metrics.dispatch(outbox[0].dispatch()),
                dispatch_every=s.service.dispatch_seconds,
                on_stop=stop_crawls,
                reload=reload,
                digests=digest_times(s.subscriptions),
                maintenance=lambda: maintain(engine, s),
            )
            asyncio.run(service.run())
    engine.dispose()
    return 0


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _run_once(
    s: Settings, engine: Engine, flagger: Flagger, max_wait: float, json_out: bool = False
) -> int:
    """One full cycle for cron or a systemd timer: poll every due source, flag, store, then
    queue and send alerts and due digests."""
    from regwatch.pipeline import collect_sources
    from regwatch.status import due_sources

    due = due_sources(engine, s.sources, datetime.now(UTC))
    with make_fetcher(s) as fetcher:
        summary = collect_sources(
            engine, flagger, fetcher, due, max_wait=max_wait, evidence=make_evidence(s)
        )
    report = make_outbox(s, engine).dispatch()
    code = 0 if not (summary.sources_failed or report.failed or report.retrying) else 3
    if json_out:
        emit({"due": [x.name for x in due], "collect": summary, "outbox": report})
        engine.dispose()
        return code
    print(
        f"run --once: {plural(len(due), 'source')} due — {summary.sources_text()}; "
        f"{summary.items_seen} items: {summary.counts_text()}\n{report.line()}"
    )
    for note in summary.notes():
        print(f"  {note}", file=sys.stderr)
    for err in report.errors:
        print(f"  {err}", file=sys.stderr)
    engine.dispose()
    return code


def cmd_status(args: argparse.Namespace) -> int:
    import json

    from regwatch.status import read_status

    s = load_settings(args)
    engine = open_reader(s)
    status = read_status(
        engine,
        s.sources,
        s.subscriptions,
        datetime.now(UTC),
        stalled_after=s.service.worker_stalled_seconds,
    )
    engine.dispose()
    if args.format == "json":
        print(json.dumps(status.as_json(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(status.lines()))
    return 0 if status.healthy else 1
