"""`regwatch evidence export|verify|prune`: the archived captures of flagged documents."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from regwatch.commands.common import evidence_folder, load_settings, open_engine, open_reader
from regwatch.commands.output import add_format, emit, plain, wants_json
from regwatch.config import Settings
from regwatch.errors import EvidenceError, UsageError

if TYPE_CHECKING:
    from regwatch.store.evidence import PruneReport

__all__ = ["add_evidence_commands", "cmd_export", "cmd_prune", "cmd_verify", "maintain"]


def cmd_export(args: argparse.Namespace) -> int:
    from regwatch.store import db
    from regwatch.store.evidence import export

    s = load_settings(args)
    engine = open_reader(s)
    out: Path = args.output or Path(f"document-{args.document_id}.warc.gz")
    temp = out.with_name(f".{out.name}.part")
    try:
        with db.session_scope(engine) as session, open(temp, "wb") as f:
            n = export(session, evidence_folder(s), args.document_id, f)
        os.replace(temp, out)
    except OSError as exc:
        raise EvidenceError(
            f"evidence export: cannot write {out} ({exc.strerror or exc})"
        ) from None
    finally:
        temp.unlink(missing_ok=True)
        engine.dispose()
    print(f"wrote {out}: {n} capture(s) of document {args.document_id}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from regwatch.store.evidence import verify

    s = load_settings(args)
    engine = open_reader(s)
    try:
        report = verify(engine, evidence_folder(s))
    finally:
        engine.dispose()
    if wants_json(args):
        emit({"folder": s.evidence.dir, "ok": report.ok, **plain(report)})
    else:
        print(f"evidence folder {s.evidence.dir}")
        print("\n".join(report.lines()))
        print("ok" if report.ok else "FAILED: captures are missing or changed", file=sys.stdout)
    return 0 if report.ok else 1


def cmd_prune(args: argparse.Namespace) -> int:
    if args.days is not None and args.days < 1:
        raise UsageError("evidence prune --days: give a number of days, at least 1")
    s = load_settings(args)
    engine = open_engine(s)
    try:
        days = s.evidence.retention_days if args.days is None else args.days
        report = _prune(engine, s, days)
    finally:
        engine.dispose()
    kept = "kept all (retention_days = 0)" if days == 0 else f"older than {days} days"
    print(
        f"pruned {report.captures} capture(s) {kept} ({report.bytes} bytes), "
        f"{report.orphans} orphan file(s)"
    )
    return 0


def _prune(engine: Engine, s: Settings, days: int) -> PruneReport:
    from regwatch.store.evidence import prune

    return prune(engine, evidence_folder(s), days)


def maintain(engine: Engine, s: Settings) -> None:
    """The service's daily maintenance: the database's, then the evidence retention."""
    from regwatch.store import db

    db.maintain(engine)
    _prune(engine, s, s.evidence.retention_days)


def add_evidence_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ev = sub.add_parser(
        "evidence", help="archived captures (WARC) of flagged documents"
    ).add_subparsers(dest="evidence_command", required=True, metavar="COMMAND")
    exp = ev.add_parser("export", help="write a document's captures as one .warc.gz")
    exp.add_argument("document_id", metavar="DOC_ID", type=int)
    exp.add_argument(
        "-o", "--output", type=Path, help="the file (default: document-DOC_ID.warc.gz)"
    )
    exp.set_defaults(func=cmd_export)
    ver = ev.add_parser(
        "verify", help="re-hash every capture; exit 1 when one is missing or changed"
    )
    add_format(ver)
    ver.set_defaults(func=cmd_verify)
    pr = ev.add_parser("prune", help="delete captures past evidence.retention_days now")
    pr.add_argument("--days", type=int, help="this many days instead of retention_days")
    pr.set_defaults(func=cmd_prune)
