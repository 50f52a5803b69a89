"""regwatch: collect Central Asian sources, flag AI-regulation signals, search them and send
digests and alerts. Start with 'regwatch config init', then 'regwatch collect'.

Exit codes: 0 done; 1 an error; 2 a bad setting or argument; 3 done, but some sources or
deliveries failed."""

# Thin: parse arguments, call the domain, turn RegwatchError into a message on stderr and its
# exit code (errors.py). Output closed early (`regwatch query | head`) ends quietly.

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from regwatch import __version__, logs
from regwatch.commands.alerts import (
    cmd_alerts_dispatch,
    cmd_alerts_list,
    cmd_alerts_retry,
    cmd_digest,
)
from regwatch.commands.analyst import cmd_export, cmd_import, cmd_query, cmd_serve
from regwatch.commands.common import (
    load_settings,
    make_flagger,
    open_engine,
    plural,
    redact,
)
from regwatch.commands.evidence import add_evidence_commands
from regwatch.commands.feedback import add_feedback_commands
from regwatch.commands.first_steps import cmd_alerts_test, cmd_config_init
from regwatch.commands.instruments import add_instrument_commands
from regwatch.commands.output import add_format, emit, wants_json
from regwatch.commands.service import cmd_run, cmd_status
from regwatch.commands.sources import (
    cmd_collect,
    cmd_sources_add,
    cmd_sources_check,
    cmd_sources_list,
    cmd_sources_toggle,
)
from regwatch.commands.workers import cmd_scheduler, cmd_worker
from regwatch.config import NlpConfig, default_config_path
from regwatch.errors import ConfigError, RegwatchError, UsageError

__all__ = ["main"]


def cmd_config_check(args: argparse.Namespace) -> int:
    s = load_settings(args)
    crawled = [src for src in s.sources if src.type != "rss" and src.spider]
    if crawled:
        from regwatch.crawlers.spiders import spider_class

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
        f"{s.path}: OK — {plural(len(s.sources), 'source')} ({enabled} enabled), "
        f"database {redact(s.database.url)}"
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    s = load_settings(args)
    open_engine(s).dispose()
    print(f"database {redact(s.database.url)} is at the latest schema")
    return 0


def _nlp_settings(args: argparse.Namespace) -> NlpConfig:
    """The [nlp] settings: from the config file when there is one, else their defaults."""
    path = args.config or default_config_path()
    if args.config or Path(path).exists():
        return load_settings(args).nlp
    return NlpConfig()


def _model_path(args: argparse.Namespace) -> str | None:
    """The learned stage's model: --model FILE, the bundled one, or none (--no-model)."""
    from regwatch.nlp.learned import DEFAULT_MODEL

    if args.no_model:
        return None
    return str(args.model or DEFAULT_MODEL)


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="FILE", help="learned-stage model to use (default: bundled)")
    p.add_argument("--no-model", action="store_true", help="rules only, no learned stage")


def cmd_flag(args: argparse.Namespace) -> int:
    from regwatch.nlp.jsonl import dump_line, flag_lines, read_lines

    nlp = _nlp_settings(args)
    model = _model_path(args)
    flagger = make_flagger(nlp, model=model)
    try:
        source = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"flag: cannot read {args.file}: {exc.strerror}") from None
    with source:
        lines = read_lines(source)
        for out in flag_lines(
            lines, flagger, workers=args.workers, rules_dir=nlp.rules_dir or None, model=model
        ):
            sys.stdout.write(dump_line(out))
    return 0


def cmd_backtest(args: argparse.Namespace) -> int:
    from regwatch.pipeline import backtest

    s = load_settings(args)
    engine = open_engine(s, read=True)
    nlp = dataclasses.replace(s.nlp, rules_dir=args.rules) if args.rules else s.nlp
    report = backtest(engine, make_flagger(nlp, model=_model_path(args)), limit=args.limit)
    if wants_json(args):
        emit(report)
    else:
        print("\n".join(report.lines(show=args.show)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from regwatch.demo import run_demo

    report = run_demo(Path(args.out))
    print("\n".join(report.lines()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="regwatch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"regwatch {__version__}")
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

    cfg = sub.add_parser("config", help="write or check the settings file").add_subparsers(
        dest="sub", required=True
    )
    cfg.add_parser("check", help="validate the configuration").set_defaults(func=cmd_config_check)
    ini = cfg.add_parser("init", help="write the settings template, every key documented")
    ini.add_argument("path", nargs="?", help="where (default: $REGWATCH_CONFIG or ./config.toml)")
    ini.add_argument("--force", action="store_true", help="replace a file that is there")
    ini.set_defaults(func=cmd_config_init)

    dbp = sub.add_parser("db", help="upgrade the database schema").add_subparsers(
        dest="sub", required=True
    )
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
    add_format(col)
    col.set_defaults(func=cmd_collect)

    src = sub.add_parser(
        "sources", help="list, add, check, enable, disable or remove sources"
    ).add_subparsers(dest="sub", required=True)
    sls = src.add_parser("list", help="sources and their health")
    add_format(sls)
    sls.set_defaults(func=cmd_sources_list)
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
    add_format(chk)
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

    alr = sub.add_parser(
        "alerts", help="the outbox: list, retry, test, dispatch deliveries"
    ).add_subparsers(dest="sub", required=True)
    lst = alr.add_parser("list", help="recent deliveries and their status")
    lst.add_argument(
        "--status", choices=["pending", "sending", "sent", "failed", "skipped", "held", "bundled"]
    )
    lst.add_argument("--limit", type=int, default=50)
    add_format(lst)
    lst.set_defaults(func=cmd_alerts_list)
    rty = alr.add_parser("retry", help="send failed deliveries again")
    rty.add_argument("ids", nargs="*", type=int, help="delivery ids (default: every failed one)")
    rty.set_defaults(func=cmd_alerts_retry)
    tst = alr.add_parser("test", help="send a test message through each channel of a subscription")
    tst.add_argument("subscription", help="its name in config.toml")
    tst.set_defaults(func=cmd_alerts_test)
    alr.add_parser(
        "dispatch", help="one cycle: queue new alerts and due digests, send what is due"
    ).set_defaults(func=cmd_alerts_dispatch)

    flg = sub.add_parser("flag", help="flag JSON Lines documents (id, text, title, lang, url)")
    flg.add_argument("file", nargs="?", default="-", help="JSON Lines file, or - for stdin")
    flg.add_argument("--workers", type=int, default=1, help="processes to flag with")
    _model_options(flg)
    flg.set_defaults(func=cmd_flag)

    bt = sub.add_parser("backtest", help="compare current rules with the stored signals")
    bt.add_argument("--rules", metavar="DIR", help="rules folder to try (default: the configured)")
    bt.add_argument("--limit", type=int, help="only the N most recently seen documents")
    bt.add_argument("--show", type=int, default=20, help="changed signals to list (default 20)")
    _model_options(bt)
    add_format(bt)
    bt.set_defaults(func=cmd_backtest)

    qry = sub.add_parser("query", help="signals with their documents, filtered and sorted")
    _query_arguments(qry)
    qry.set_defaults(func=cmd_query)

    exp = sub.add_parser("export", help="a full dump of the signals (or documents)")
    exp.add_argument("--what", choices=["signals", "documents"], default="signals")
    exp.add_argument("--format", choices=["jsonl", "csv", "json"], default="jsonl")
    exp.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    exp.add_argument(
        "--bom",
        action="store_true",
        help="start the CSV with a UTF-8 byte-order mark, so Excel shows Cyrillic correctly",
    )
    exp.set_defaults(func=cmd_export)

    imp = sub.add_parser(
        "import", help="ingest documents from JSON Lines (url, title, text, published, …)"
    )
    imp.add_argument("file", help="JSON Lines file, or - for stdin")
    imp.set_defaults(func=cmd_import)

    sts = sub.add_parser("status", help="jobs, runs, health, outbox; exit 1 when unhealthy")
    add_format(sts)
    sts.set_defaults(func=cmd_status)

    run = sub.add_parser("run", help="the long-running service: poll each source on schedule")
    run.add_argument(
        "--once",
        action="store_true",
        help="one full cycle (due sources, alerts, due digests), then exit — for cron",
    )
    add_format(run)
    run.set_defaults(func=cmd_run)

    wrk = sub.add_parser(
        "worker", help="take poll and outbox jobs from the PostgreSQL queue (run N of them)"
    )
    wrk.add_argument("--init", action="store_true", help="create the job queue's tables, then exit")
    wrk.add_argument(
        "--metrics-port", type=int, default=0, metavar="PORT",
        help="serve this worker's Prometheus metrics on PORT (default: off)",
    )  # fmt: skip
    wrk.set_defaults(func=cmd_worker)

    sch = sub.add_parser(
        "scheduler", help="enqueue due polls and outbox cycles for the workers (one leads)"
    )
    sch.set_defaults(func=cmd_scheduler)

    srv = sub.add_parser("serve", help="the read-only web UI and JSON API")
    srv.add_argument("--host", help="address to bind (default web.host: 127.0.0.1)")
    srv.add_argument("--port", type=int, help="TCP port (default web.port: 8000)")
    srv.set_defaults(func=cmd_serve)

    add_feedback_commands(sub)
    add_evidence_commands(sub)
    add_instrument_commands(sub)
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
    from regwatch.store.analyst import SORTS
    from regwatch.store.export import FORMATS

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
    p.add_argument(
        "--until", metavar="WHEN", help="detected up to: a day (that whole day), a time or a span"
    )
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
    service = args.command in ("run", "worker", "scheduler")
    logs.setup(args.verbose or service, True if args.log_json else None)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly; no flush at exit may raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # as a shell reports a process ended by SIGPIPE
    except RegwatchError as exc:
        print(f"regwatch: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
