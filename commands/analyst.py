"""`regwatch query`, `export`, `import` and `serve`: the analysts' side."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from regwatch.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from regwatch.store.analyst import SignalFilter

from regwatch.commands.common import load_settings, make_flagger, open_engine, open_reader, plural
from regwatch.store.export import BOM

DOCUMENT_COLUMNS = ("url", "title", "text", "published", "source", "lang", "country")


def _signal_filter(args: argparse.Namespace) -> SignalFilter:
    from regwatch.store.analyst import SignalFilter, parse_when

    def many(values: list[str] | None) -> tuple[str, ...]:
        return tuple(v.strip() for value in values or () for v in value.split(",") if v.strip())

    if not 0.0 <= args.min_score <= 1.0:
        raise UsageError(f"--min-score {args.min_score}: use a score within 0..1")
    return SignalFilter(
        categories=many(args.category),
        countries=many(args.country),
        sources=many(args.source),
        languages=many(args.lang),
        since=parse_when(args.since, "--since", spans=True),
        until=parse_when(args.until, "--until", end_of_day=True, spans=True),
        min_score=args.min_score,
        text=args.text or "",
    )


def cmd_query(args: argparse.Namespace) -> int:
    from regwatch.store import db
    from regwatch.store.analyst import COLUMNS, check_categories, iter_signals
    from regwatch.store.export import write_rows

    s = load_settings(args)
    flt = _signal_filter(args)
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit {args.limit}: use a positive number")
    engine = open_reader(s)
    with db.session_scope(engine) as session:
        check_categories(session, flt.categories)
        rows = iter_signals(session, flt, args.sort, args.limit)
        n = write_rows(rows, COLUMNS, args.format, sys.stdout)
    if args.format == "table":
        print(f"({plural(n, 'signal')})", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from regwatch.store import db
    from regwatch.store.analyst import COLUMNS, SignalFilter, iter_documents, iter_signals
    from regwatch.store.export import write_rows

    s = load_settings(args)
    engine = open_reader(s)
    if args.bom and args.format != "csv":
        raise UsageError("export --bom: a byte-order mark is for CSV only; add --format csv")
    try:
        out: TextIO = (
            open(args.out, "w", encoding="utf-8", newline="")  # noqa: SIM115
            if args.out
            else sys.stdout
        )
    except OSError as exc:
        raise UsageError(
            f"export --out {args.out}: cannot write there ({exc.strerror}); "
            "pick a file in a folder that exists"
        ) from None
    if args.bom:
        out.write(BOM)
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
    noun = args.what.removesuffix("s")
    where = f" to {args.out}" if args.out else ""
    print(f"exported {plural(n, noun)}{where}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from regwatch.crawlers.imports import read_documents
    from regwatch.nlp.jsonl import read_lines
    from regwatch.pipeline import import_documents

    s = load_settings(args)
    engine = open_engine(s)
    flagger = make_flagger(s.nlp)
    try:
        stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"import: cannot read {args.file}: {exc.strerror}") from None
    moved: list[str] = []
    with stream:
        lines = read_documents(read_lines(stream))
        summary = import_documents(engine, flagger, lines, s.sources, notes=moved)
    print(
        f"imported {plural(summary.items_seen, 'document')}: {summary.counts_text()}; "
        f"{plural(len(summary.skipped), 'line')} skipped"
    )
    for note in [*moved, *summary.notes(skipped=50)]:
        print(f"  {note}", file=sys.stderr)
    return 0 if not summary.skipped else 3


def cmd_serve(args: argparse.Namespace) -> int:
    import gc
    import os

    import uvicorn

    from regwatch.nlp.components import morph
    from regwatch.web import WebOptions, create_app, is_loopback

    s = load_settings(args)
    host = args.host or s.web.host
    port = s.web.port if args.port is None else args.port
    if not 0 <= port < 65536:
        raise UsageError(f"serve --port {port}: use a port within 1..65535")
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
    engine = open_reader(s)
    options = WebOptions(
        token=token,
        page_size=s.web.page_size,
        quiet_days=s.digest.quiet_days,
        evidence_dir=s.evidence.dir,
        subscriptions=s.subscriptions,
    )
    where = f"[{host}]" if ":" in host else host
    print(
        f"regwatch web UI on http://{where}:{port}/ (read-only but for feedback"
        + (f"; token from ${s.web.token_env}" if token else "; this machine only")
        + ")",
        file=sys.stderr,
    )
    from regwatch.store import db

    writer = db.make_engine(s.database.url)  # the feedback POST's, and only its
    app = create_app(engine, options, writer)
    morph()  # load the Russian dictionaries for text search now, not in the first search
    gc.collect()
    gc.freeze()  # what is alive now lives as long as the server: no collection walks it again
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info" if args.verbose else "warning",
        server_header=False,
        proxy_headers=False,
    )
    engine.dispose()
    writer.dispose()
    return 0
