"""What the pages and the API show, read from the store: a document with its versions and what
changed between them, its signals, and the sources' health."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from regwatch.alerts.digest import COUNTRY_TITLES
from regwatch.alerts.render import safe_url
from regwatch.store.analyst import SignalFilter, signal_select
from regwatch.store.documents import signal_history
from regwatch.store.models import Document, DocumentVersion, Signal, Source
from regwatch.store.queries import source_health

__all__ = [
    "DiffLine",
    "DocumentView",
    "SourceView",
    "VersionView",
    "changes",
    "document_view",
    "evidence",
    "label",
    "search_words",
    "source_views",
    "titles",
]

_WORD = re.compile(r"\w+(?:['’]\w+)*")  # as nlp.index reads words
MAX_DIFF_CHARS = 400_000  # beyond this the change is summarised, not diffed
MAX_DIFF_LINES = 2_000


def titles(dimension: str) -> Mapping[str, str]:
    """The names of a facet's values: categories by their rules file's title, countries."""
    from regwatch.nlp.rules import category_titles

    return {"category": category_titles(), "country": COUNTRY_TITLES}.get(dimension, {})


def label(dimension: str, value: str) -> str:
    """How the UI and the API name a category, a country; other values as they are."""
    return titles(dimension).get(value, value)


def evidence(
    sentence: str, match: str, terms: frozenset[str] = frozenset()
) -> list[tuple[str, str]]:
    """The sentence as (text, kind) pieces for a template to wrap without raw HTML: kind
    "match" for the rule's match, "term" for a word of the search (any inflection: compared by
    index term), "match term" where both, "" elsewhere. A match not in the sentence is shown
    first, then the sentence."""
    at = sentence.find(match) if match else -1
    if match and at < 0:
        return [(match, "match"), (f" — {sentence}" if sentence else "", "")]
    kinds = [""] * len(sentence)
    if match:
        kinds[at : at + len(match)] = ["match"] * len(match)
    if terms:
        from regwatch.nlp.index import term_of

        for word in _WORD.finditer(sentence):
            if term_of(word.group().lower()) in terms:
                for i in range(word.start(), word.end()):
                    kinds[i] = "match term" if kinds[i] == "match" else "term"
    pieces: list[tuple[str, str]] = []
    start = 0
    for i in range(1, len(sentence) + 1):
        if i == len(sentence) or kinds[i] != kinds[start]:
            pieces.append((sentence[start:i], kinds[start]))
            start = i
    return pieces


def search_words(text: str) -> frozenset[str]:
    """The index terms a search looks for (not those under NOT), for highlighting."""
    if not text.strip():
        return frozenset()
    from regwatch.nlp.index import search_terms
    from regwatch.store.search import parse, terms_of

    return frozenset(terms_of(parse(text, search_terms)))


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "same" or "hunk"
    text: str


def changes(old: str, new: str, context: int = 2) -> tuple[list[DiffLine], str]:
    """The lines that changed from ``old`` to ``new`` (a unified diff), and a note when the
    texts are too large to diff or the diff was cut."""
    if len(old) + len(new) > MAX_DIFF_CHARS:
        return [], f"too large to compare here ({len(old):,} → {len(new):,} characters)"
    out: list[DiffLine] = []
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=context)
    for line in diff:
        if line.startswith(("---", "+++")):
            continue
        kind = {"@": "hunk", "+": "add", "-": "del"}.get(line[:1], "same")
        out.append(DiffLine(kind, line[1:] if kind != "hunk" else "…"))
        if len(out) >= MAX_DIFF_LINES:
            return out, f"only the first {MAX_DIFF_LINES} lines of the change are shown"
    return out, ""


@dataclass(frozen=True)
class VersionView:
    version: int
    title: str
    text: str
    content_hash: str
    fetched_at: datetime
    title_before: str | None  # the previous version's title, when it changed
    diff: list[DiffLine]
    note: str


@dataclass(frozen=True)
class DocumentView:
    id: int
    title: str
    url: str
    link: str  # http(s) only, else ""
    source: str
    source_country: str
    tier: str
    lang: str | None
    published_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    version: int
    versions: list[VersionView]  # newest first
    signals: list[dict[str, Any]]  # store.analyst.COLUMNS rows + the version, best first
    # Signals of earlier versions: history, shown here and counted nowhere.
    history: list[dict[str, Any]] = field(default_factory=list)


def document_view(session: Session, document_id: int) -> DocumentView | None:
    row = session.execute(
        select(Document, Source)
        .join(Source, Source.id == Document.source_id)
        .where(Document.id == document_id)
    ).first()
    if row is None:
        return None
    doc, src = row
    stored = session.scalars(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document_id)
        .order_by(DocumentVersion.version)
    ).all()
    versions: list[VersionView] = []
    previous: DocumentVersion | None = None
    for v in stored:
        diff, note = changes(previous.text, v.text) if previous else ([], "")
        before = previous.title if previous and previous.title != v.title else None
        versions.append(
            VersionView(
                v.version, v.title, v.text, v.content_hash, v.fetched_at, before, diff, note
            )
        )
        previous = v
    dialect = session.get_bind().dialect.name
    stmt = signal_select(SignalFilter(), "score", dialect).where(Signal.document_id == doc.id)
    signals = [dict(r._mapping) for r in session.execute(stmt)]
    found_in = dict(
        session.execute(
            select(Signal.id, DocumentVersion.version)
            .join(DocumentVersion, DocumentVersion.id == Signal.version_id)
            .where(Signal.document_id == doc.id)
        ).all()
    )
    for item in signals:
        item["version"] = found_in.get(item["signal_id"])
    number = {v.id: v.version for v in stored}
    history = [
        {
            "category": h.category,
            "rule": h.rule,
            "match": h.text,
            "score": h.score,
            "version": number.get(h.version_id),
        }
        for h in signal_history(session, doc.id)
    ]
    return DocumentView(
        doc.id,
        doc.title,
        doc.url,
        safe_url(doc.url),
        src.name,
        src.country,
        src.tier,
        doc.lang,
        doc.published_at,
        doc.first_seen_at,
        doc.last_seen_at,
        doc.version,
        versions[::-1],
        signals,
        history,
    )


@dataclass(frozen=True)
class SourceView:
    name: str
    url: str
    link: str
    state: str  # ok, new, failing or quiet
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    items_last_run: int
    quiet_since: datetime | None
    last_warning: str | None = None  # what the last good poll noticed (bytes replaced, cut feed)


def source_views(session: Session, now: datetime, quiet_days: int) -> list[SourceView]:
    """Every source in the database with its health, as `regwatch sources list` judges it."""
    errors_at = {
        name: at for name, at in session.execute(select(Source.name, Source.last_error_at))
    }
    out = []
    for h in source_health(session):
        quiet = h.quiet_since(now, quiet_days)
        state = "failing" if h.consecutive_failures else "quiet" if quiet else "ok"
        if not h.last_success_at and not h.consecutive_failures:
            state = "new"
        out.append(
            SourceView(
                h.name,
                h.url,
                safe_url(h.url),
                state,
                h.last_success_at,
                errors_at.get(h.name),
                h.last_error,
                h.consecutive_failures,
                h.items_last_run,
                quiet,
                h.last_warning,
            )
        )
    return out
