"""`regwatch instruments list|show|export|link|unlink|merge|unmerge`: the drafts followed from
concept to force, and the analyst's corrections to how documents were linked to them."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path
from typing import Any

from regwatch.commands.common import load_settings, open_engine, open_reader
from regwatch.commands.output import add_format, emit, plain, wants_json
from regwatch.errors import UsageError

__all__ = ["TRACKER_FIELDS", "add_instrument_commands", "tracker_row"]

# What a GR tracker (a spreadsheet, Airtable, a CRM) takes: one row per instrument.
TRACKER_FIELDS = (
    "id", "jurisdiction", "type", "number", "title", "label", "subject", "stage", "stage_label",
    "stage_date", "consultation_start", "consultation_end", "issuing_body", "themes", "portal",
    "portal_id", "documents", "first_seen", "last_seen",
)  # fmt: skip


def tracker_row(inst: Any) -> dict[str, Any]:
    """An :class:`~regwatch.store.instruments.InstrumentSummary` as tracker fields."""
    from regwatch.instruments import stage_label

    return {
        "id": inst.id,
        "jurisdiction": inst.jurisdiction,
        "type": inst.kind,
        "number": inst.number,
        "title": inst.title,
        "label": inst.label,
        "subject": inst.subject,
        "stage": inst.stage.value if inst.stage else None,
        "stage_label": stage_label(inst.stage, inst.jurisdiction) if inst.stage else None,
        "stage_date": inst.stage_date,
        "consultation_start": inst.consultation_start,
        "consultation_end": inst.consultation_end,
        "issuing_body": inst.issuing_body,
        "themes": list(inst.themes),
        "portal": inst.portal,
        "portal_id": inst.portal_id,
        "documents": inst.documents,
        "first_seen": inst.first_seen,
        "last_seen": inst.last_seen,
    }


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    from regwatch.instruments import JURISDICTIONS, Stage

    if args.country and args.country not in JURISDICTIONS:
        raise UsageError(
            f"instruments: --country {args.country!r} is not one of {', '.join(JURISDICTIONS)}"
        )
    if args.stage and args.stage not in {s.value for s in Stage}:
        raise UsageError(
            f"instruments: --stage {args.stage!r} is not a stage; use one of "
            f"{', '.join(s.value for s in Stage)}"
        )
    return {"country": args.country, "stage": args.stage, "theme": args.theme}


def _summaries(args: argparse.Namespace) -> list[Any]:
    from regwatch.store import db
    from regwatch.store.instruments import list_instruments

    filters = _filters(args)
    engine = open_reader(load_settings(args))
    try:
        with db.session_scope(engine) as s:
            return list_instruments(s, **filters, limit=getattr(args, "limit", None))
    finally:
        engine.dispose()


def _dates(inst: Any) -> str:
    if inst.consultation_end is None:
        return ""
    start = f"{inst.consultation_start.isoformat()}–" if inst.consultation_start else "until "
    return f"comments {start}{inst.consultation_end.isoformat()}"


def cmd_instruments_list(args: argparse.Namespace) -> int:
    from regwatch.instruments import stage_label

    rows = _summaries(args)
    if wants_json(args):
        emit([tracker_row(r) for r in rows])
        return 0
    if not rows:
        print("(no instruments yet: they appear as documents about drafts are collected)")
        return 0
    for r in rows:
        stage = stage_label(r.stage, r.jurisdiction) if r.stage else "stage unknown"
        head = f"{r.id:>5}  {r.jurisdiction or '??':<4} {r.kind or '?':<10} {stage}"
        extra = "  ".join(x for x in (_dates(r), f"{r.documents} doc(s)") if x)
        print(f"{head}  {extra}")
        print(f"       {r.label}{'  ' + r.number if r.number else ''}")
    return 0


def cmd_instruments_show(args: argparse.Namespace) -> int:
    from regwatch.instruments import stage_label
    from regwatch.store import db
    from regwatch.store.instruments import get_instrument

    engine = open_reader(load_settings(args))
    try:
        with db.session_scope(engine) as s:
            found = get_instrument(s, args.id)
    finally:
        engine.dispose()
    if found is None:
        raise UsageError(
            f"instruments: there is no instrument {args.id}; "
            "'regwatch instruments list' shows their ids"
        )
    if wants_json(args):
        emit(found)
        return 0
    inst = found.instrument
    print(f"instrument {inst.id}: {inst.label}")
    if inst.merged_into:
        print(f"  merged into instrument {inst.merged_into} (shown there)")
    for key, value in tracker_row(inst).items():
        if key not in ("id", "title", "label") and value not in (None, [], ""):
            shown = ", ".join(value) if isinstance(value, list) else plain(value)
            print(f"  {key:<19} {shown}")
    if found.merged:
        print(f"  merged here         {', '.join(map(str, found.merged))}")
    if found.titles:
        print("titles:")
        for t in found.titles:
            print(f"  [{t.lang or '?'}] {t.title}")
    print("stage events:")
    for e in found.events:
        flag = " CONTRADICTS the current stage" if e.contradicts else (" →" if e.advanced else "")
        when = e.stage_date.isoformat() if e.stage_date else "undated"
        print(f"  {when}  {stage_label(e.stage, inst.jurisdiction)}{flag}  "
              f"(event {e.id}, {e.source}, document {e.document_id})")  # fmt: skip
        print(f"      {e.evidence}")
    if not found.events:
        print("  (none)")
    print("documents:")
    for link in found.links:
        state = "" if link.status == "linked" else " [UNLINKED]"
        print(f"  {link.document_id:>5} [{link.lang or '?'}] {link.title}{state}")
        print(f"        {link.url}")
        print(f"        {link.method}: {link.reason}")
    return 0


def cmd_instruments_export(args: argparse.Namespace) -> int:
    rows = [tracker_row(r) for r in _summaries(args)]
    out: Path | None = args.out
    if args.format == "json":
        import json

        text = json.dumps(plain(rows), ensure_ascii=False, indent=2) + "\n"
    else:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=TRACKER_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: "; ".join(v) if isinstance(v, list) else plain(v) for k, v in row.items()}
            )
        text = buf.getvalue()
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"{len(rows)} instrument(s) written to {out}", file=sys.stderr)
    return 0


def _write(args: argparse.Namespace, action: str) -> int:
    from regwatch.store import db
    from regwatch.store import instrument_links as links

    engine = open_engine(load_settings(args), read=True)
    try:
        with db.session_scope(engine) as s:
            db.write_lock(s)
            if action == "unlink":
                said = links.unlink(s, args.document, args.instrument)
            elif action == "link":
                links.link_manually(s, args.document, args.instrument, args.note)
                said = f"document {args.document} linked to instrument {args.instrument} by hand"
            elif action == "merge":
                said = links.merge(s, args.into, args.other)
            else:
                said = links.unmerge(s, args.instrument)
    finally:
        engine.dispose()
    print(said)
    return 0


def add_instrument_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ins = sub.add_parser(
        "instruments", help="drafts followed from concept to force; fix how documents link"
    ).add_subparsers(dest="instruments_command", required=True, metavar="COMMAND")

    def filters(p: argparse.ArgumentParser) -> None:
        p.add_argument("--country", help="kz, uz, kg, tj, tm or intl")
        p.add_argument("--stage", help="a stage, e.g. public_discussion or first_reading")
        p.add_argument("--theme", help="a signal category, e.g. draft_instrument")

    lst = ins.add_parser("list", help="instruments, open consultations first")
    filters(lst)
    lst.add_argument("--limit", type=int, default=None, help="at most this many")
    add_format(lst)
    lst.set_defaults(func=cmd_instruments_list)
    shw = ins.add_parser("show", help="one instrument: titles, stage events, linked documents")
    shw.add_argument("id", metavar="ID", type=int)
    add_format(shw)
    shw.set_defaults(func=cmd_instruments_show)
    exp = ins.add_parser("export", help="tracker rows (jurisdiction, type, stage, dates, …)")
    filters(exp)
    exp.add_argument("--format", choices=["csv", "json"], default="csv")
    exp.add_argument("--out", type=Path, help="the file to write (default: stdout)")
    exp.set_defaults(func=cmd_instruments_export)
    unl = ins.add_parser("unlink", help="take a document off an instrument (never relinked)")
    unl.add_argument("document", metavar="DOC", type=int)
    unl.add_argument("instrument", metavar="INSTRUMENT", type=int)
    unl.set_defaults(func=lambda a: _write(a, "unlink"))
    lnk = ins.add_parser("link", help="link a document to an instrument by hand")
    lnk.add_argument("document", metavar="DOC", type=int)
    lnk.add_argument("instrument", metavar="INSTRUMENT", type=int)
    lnk.add_argument("--note", default="", help="why, stored as the link's reason")
    lnk.set_defaults(func=lambda a: _write(a, "link"))
    mrg = ins.add_parser("merge", help="instrument B is the same as A: show it under A")
    mrg.add_argument("into", metavar="A", type=int)
    mrg.add_argument("other", metavar="B", type=int)
    mrg.set_defaults(func=lambda a: _write(a, "merge"))
    unm = ins.add_parser("unmerge", help="undo a merge: the instrument is its own again")
    unm.add_argument("instrument", metavar="B", type=int)
    unm.set_defaults(func=lambda a: _write(a, "unmerge"))
