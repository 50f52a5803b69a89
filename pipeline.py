"""The one ingest path: dedupe → flag → store. Feed entries and crawled pages alike.

``ingest()`` handles one Document; ``collect_sources()`` polls configured sources, ingests
what they yield and records each source's health and the run's counts. One bad source or
item never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config import SourceConfig
from crawlers import Document, Fetcher, collect
from crawlers.imports import ImportItem
from crawlers.politeness import Validators, backoff_seconds
from errors import FetchError, RegwatchError
from nlp import Flagger, Match, detect
from nlp.index import search_terms
from store import db
from store import models as m
from store.fulltext import index_document
from store.queries import (
    PollState,
    SourceSpec,
    known_urls,
    poll_states,
    record_failure,
    record_success,
    sync_sources,
)

__all__ = [
    "BacktestReport",
    "Flagged",
    "IngestResult",
    "Outcome",
    "Preview",
    "RunSummary",
    "backtest",
    "collect_sources",
    "flag_document",
    "import_documents",
    "ingest",
    "language_of",
    "preview",
    "source_spec",
    "store_flagged",
]

log = logging.getLogger("regwatch.pipeline")


class Outcome(StrEnum):
    NEW = "new"
    UPDATED = "updated"  # known URL, changed content: a new version
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"  # same content already stored under another URL


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    document_id: int
    signals_new: int = 0


@dataclass
class RunSummary:
    sources_ok: int = 0
    sources_failed: int = 0
    items_seen: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome})
    signals_new: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # source name -> error
    skipped: list[str] = field(default_factory=list)
    not_modified: list[str] = field(default_factory=list)  # answered 304: nothing parsed
    not_due: dict[str, datetime] = field(default_factory=dict)  # name -> polled again after

    @property
    def stored_anything(self) -> bool:
        return bool(
            self.outcomes[Outcome.NEW] or self.outcomes[Outcome.UPDATED] or self.signals_new
        )


# Same content under another URL counts as the same story only when there is enough text to
# tell stories apart: title-only items ("Проект постановления Правительства") would collide.
MIN_TEXT_FOR_CONTENT_DEDUPE = 200


def _classify(session: Session, doc: Document) -> tuple[Outcome, m.Document | None]:
    row = session.scalars(
        select(m.Document).where(m.Document.canonical_url == doc.canonical_url)
    ).one_or_none()
    if row is not None:
        return (Outcome.UNCHANGED if row.content_hash == doc.content_hash else Outcome.UPDATED), row
    if len(doc.text) < MIN_TEXT_FOR_CONTENT_DEDUPE:
        return Outcome.NEW, None
    twin = session.scalars(
        select(m.Document).where(m.Document.content_hash == doc.content_hash).limit(1)
    ).one_or_none()
    return (Outcome.DUPLICATE, twin) if twin is not None else (Outcome.NEW, None)


def ingest(engine: Engine, flagger: Flagger, doc: Document, source_id: int) -> IngestResult:
    """Dedupe ``doc`` by canonical URL and content hash, flag it, store it and its signals.

    Flagging runs outside any transaction, so the write lock is held only to write.
    Replaying the same document (after a crash, or a second run) stores nothing twice; a page
    that changes back to earlier content points the document back at that version.
    """
    with db.session_scope(engine) as session:
        outcome, row = _classify(session, doc)
        if outcome in (Outcome.UNCHANGED, Outcome.DUPLICATE):
            assert row is not None
            row.last_seen_at = m.utcnow()
            return IngestResult(outcome, row.id)
    return store_flagged(engine, flag_document(flagger, doc), source_id)


@dataclass(frozen=True)
class Flagged:
    """A document with what the write needs, all computed outside any transaction."""

    doc: Document
    lang: str
    matches: list[Match]
    terms: list[str]  # for the full-text index


def flag_document(flagger: Flagger, doc: Document) -> Flagged:
    lang = language_of(doc)
    return Flagged(
        doc, lang, flagger.flag(doc.title, doc.text, lang), search_terms(f"{doc.title}\n{doc.text}")
    )


def store_flagged(engine: Engine, flagged: Flagged, source_id: int) -> IngestResult:
    """Store a flagged document in one write transaction (deduped again under the lock)."""
    doc = flagged.doc
    try:
        with db.session_scope(engine) as session:
            return _store(session, doc, source_id, flagged.lang, flagged.matches, flagged.terms)
    except IntegrityError:
        # Another writer stored the same document between our two transactions.
        with db.session_scope(engine) as session:
            outcome, row = _classify(session, doc)
            if outcome is not Outcome.UNCHANGED or row is None:
                raise
            return IngestResult(Outcome.UNCHANGED, row.id)


def _store(
    session: Session,
    doc: Document,
    source_id: int,
    lang: str,
    matches: list[Match],
    terms: list[str],
) -> IngestResult:
    outcome, row = _classify(session, doc)  # again, under the write lock
    if outcome in (Outcome.UNCHANGED, Outcome.DUPLICATE):
        assert row is not None
        return IngestResult(outcome, row.id)
    now = m.utcnow()
    if row is None:
        row = m.Document(
            source_id=source_id,
            url=doc.url,
            canonical_url=doc.canonical_url,
            title=doc.title,
            lang=lang,
            published_at=doc.published,
            content_hash=doc.content_hash,
            version=0,
        )
        session.add(row)
    else:
        earlier = session.scalars(
            select(m.DocumentVersion).where(
                m.DocumentVersion.document_id == row.id,
                m.DocumentVersion.content_hash == doc.content_hash,
            )
        ).one_or_none()
        if earlier is not None:  # changed back: that version (and its signals) is current again
            row.version, row.title, row.content_hash = earlier.version, doc.title, doc.content_hash
            row.last_seen_at = now
            index_document(session, row.id, terms)
            return IngestResult(Outcome.UPDATED, row.id)
        row.version = max(v.version for v in row.versions)
    row.version += 1
    row.title, row.content_hash, row.lang, row.last_seen_at = doc.title, doc.content_hash, lang, now
    version = m.DocumentVersion(
        document=row,
        version=row.version,
        title=doc.title,
        text=doc.text,
        content_hash=doc.content_hash,
        fetched_at=doc.fetched_at,
    )
    session.add(version)
    session.flush()
    session.add_all(_signal(row.id, version.id, match) for match in matches)
    index_document(session, row.id, terms)
    return IngestResult(outcome, row.id, len(matches))


@dataclass
class Preview:
    """What a source would bring, without storing anything: for ``regwatch sources add|check``."""

    items: int = 0
    titles: list[str] = field(default_factory=list)
    languages: dict[str, int] = field(default_factory=dict)
    signals: dict[str, int] = field(default_factory=dict)  # category -> count


def preview(flagger: Flagger, documents: Iterable[Document], sample: int = 5) -> Preview:
    out = Preview()
    for doc in documents:
        out.items += 1
        if len(out.titles) < sample:
            out.titles.append(doc.title or doc.url)
        lang = language_of(doc)
        out.languages[lang] = out.languages.get(lang, 0) + 1
        for match in flagger.flag(doc.title, doc.text, lang):
            out.signals[match.category] = out.signals.get(match.category, 0) + 1
    return out


def language_of(doc: Document) -> str:
    """The text decides; a declared language (feed, <html lang>) only for very short items,
    since feeds often declare one language for items in several."""
    if doc.lang and len(doc.title) + len(doc.text) < 200:
        return doc.lang
    return detect(f"{doc.title}\n{doc.text}")


def _signal(document_id: int, version_id: int, match: Match) -> m.Signal:
    return m.Signal(
        document_id=document_id,
        version_id=version_id,
        category=match.category,
        rule=match.rule,
        field=match.field,
        text=match.text,
        start=match.start,
        end=match.end,
        sentence=match.sentence,
        score=match.score,
        reason=match.reason,
        lang=match.lang,
        countries=list(match.countries),
        bodies=list(match.bodies),
        attributes=dict(match.attributes),
    )


DEFAULT_MAX_WAIT_S = 24 * 3600.0


def collect_sources(
    engine: Engine,
    flagger: Flagger,
    fetcher: Fetcher,
    sources: Iterable[SourceConfig],
    *,
    max_wait: float = DEFAULT_MAX_WAIT_S,
    force: bool = False,
    loop: asyncio.AbstractEventLoop | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunSummary:
    """Poll every enabled source once; record health per source and a ``runs`` row.

    A source is left alone while the server's freshness (Cache-Control max-age, feed TTL),
    its Retry-After or our back-off after failures says so — each capped at ``max_wait``
    seconds — unless ``force``. Feeds are fetched conditionally (ETag, Last-Modified).
    Nothing a source or an item does stops the others: any error is recorded on the source's
    row (or in ``skipped`` for one item) and the run goes on; the run row is always closed.
    Scrapy crawls (html, sitemap) run on ``loop`` when given — the scheduler's. ``progress``
    gets one line per source as it finishes (the terminal's progress display).
    """
    sources = [s for s in sources if s.enabled]
    summary = RunSummary()
    pending: list[_Success] = []  # 304s: health written in batches, not one commit each
    with db.session_scope(engine) as session:
        ids = sync_sources(session, (source_spec(s) for s in sources))
        session.flush()
        states = poll_states(session, ids.values())
        run = m.Run(kind="collect")
        session.add(run)
        session.flush()
        run_id = run.id
    try:
        for i, source in enumerate(sources, 1):
            sid = ids[source.name]
            seen, new = summary.items_seen, summary.outcomes[Outcome.NEW]
            _collect_one(
                engine,
                flagger,
                fetcher,
                source,
                sid,
                states[sid],
                summary,
                max_wait,
                force,
                loop,
                pending,
            )
            if len(pending) >= HEALTH_BATCH:
                _record_successes(engine, pending)
            if progress is not None:
                name = source.name
                if name in summary.errors:
                    what = f"failed: {summary.errors[name][:120]}"
                elif name in summary.not_due:
                    what = f"not due until {summary.not_due[name]:%Y-%m-%d %H:%M} UTC"
                elif name in summary.not_modified:
                    what = "not modified (304)"
                else:
                    what = (
                        f"{summary.items_seen - seen} items, "
                        f"{summary.outcomes[Outcome.NEW] - new} new"
                    )
                progress(f"[{i}/{len(sources)}] {name}: {what}")
    finally:
        if pending:
            _record_successes(engine, pending)
        with db.session_scope(engine) as session:
            _close_run(session.get_one(m.Run, run_id), summary)
    return summary


def _collect_one(
    engine: Engine,
    flagger: Flagger,
    fetcher: Fetcher,
    source: SourceConfig,
    source_id: int,
    state: PollState,
    summary: RunSummary,
    max_wait: float,
    force: bool,
    loop: asyncio.AbstractEventLoop | None,
    pending: list[_Success],
) -> None:
    now = m.utcnow()
    if not force and not state.due(now):
        assert state.not_before is not None
        summary.not_due[source.name] = state.not_before
        return
    try:
        known: dict[str, datetime] = {}
        if source.type != "rss" and source.revisit_days:
            with db.session_scope(engine) as session:
                known = known_urls(session, source_id)
        collected = collect(
            source, fetcher, Validators(state.etag, state.last_modified), loop, known=known
        )
    except Exception as exc:  # a source is never allowed to stop the run
        message = str(exc) if isinstance(exc, RegwatchError) else f"{type(exc).__name__}: {exc}"
        log.warning("%s: %s", source.name, message)
        summary.sources_failed += 1
        summary.errors[source.name] = message
        wait = backoff_seconds(
            state.consecutive_failures + 1, source.interval_minutes * 60.0, max_wait
        )
        if isinstance(exc, FetchError) and exc.retry_after:
            wait = max(wait, min(exc.retry_after, max_wait))
        with db.session_scope(engine) as session:
            record_failure(
                session, source_id, message, now + timedelta(seconds=wait) if wait else None
            )
        return
    summary.sources_ok += 1
    summary.skipped.extend(f"{source.name}: {s}" for s in collected.skipped)
    if collected.not_modified:
        summary.not_modified.append(source.name)
    for doc in collected.documents:
        summary.items_seen += 1
        try:
            result = ingest(engine, flagger, doc, source_id)
        except Exception as exc:  # one bad item never stops the others
            log.exception("%s: could not ingest %s", source.name, doc.url)
            summary.skipped.append(f"{source.name}: {doc.url}: not stored ({exc})")
            continue
        summary.outcomes[result.outcome] += 1
        summary.signals_new += result.signals_new
    fresh = min(collected.fresh_for, max_wait) if collected.fresh_for else 0.0
    v = collected.validators
    success = _Success(
        source_id,
        len(collected.documents),
        (v.etag, v.last_modified) if v or not collected.not_modified else None,
        m.utcnow() + timedelta(seconds=fresh) if fresh else None,
    )
    if collected.not_modified:  # nothing else to write: recorded with others, in one go
        pending.append(success)
    else:
        _record_successes(engine, [success])


@dataclass(frozen=True)
class _Success:
    source_id: int
    items: int
    validators: tuple[str | None, str | None] | None
    fresh_until: datetime | None


HEALTH_BATCH = 100


def _record_successes(engine: Engine, successes: list[_Success]) -> None:
    with db.session_scope(engine) as session:
        for x in successes:
            record_success(
                session, x.source_id, x.items, validators=x.validators, fresh_until=x.fresh_until
            )
    successes.clear()


def _close_run(run: m.Run, summary: RunSummary) -> None:
    run.finished_at = m.utcnow()
    run.status = "ok" if not summary.sources_failed else "partial"
    run.sources_ok, run.sources_failed = summary.sources_ok, summary.sources_failed
    run.items_seen = summary.items_seen
    run.documents_new = summary.outcomes[Outcome.NEW]
    run.documents_updated = summary.outcomes[Outcome.UPDATED]
    run.signals_new = summary.signals_new
    run.error = "; ".join(f"{k}: {v}" for k, v in summary.errors.items())[:4000] or None


def source_spec(source: SourceConfig) -> SourceSpec:
    """What the store keeps of a configured source."""
    return SourceSpec(
        source.name, source.url, source.type, source.country, source.languages, source.tier
    )


SignalKey = tuple[str, str, str, int, int]  # category, rule, field, start, end
BACKTEST_BATCH = 500


@dataclass
class BacktestReport:
    """What the current rules would add to, remove from or re-score in the stored signals."""

    documents: int = 0
    added: list[tuple[int, SignalKey, str]] = field(default_factory=list)
    removed: list[tuple[int, SignalKey, str]] = field(default_factory=list)
    rescored: list[tuple[int, SignalKey, float, float]] = field(default_factory=list)
    unchanged: int = 0

    def lines(self, show: int = 20) -> list[str]:
        out = [
            f"backtest over {self.documents} documents: {len(self.added)} signals would be "
            f"added, {len(self.removed)} removed, {len(self.rescored)} re-scored, "
            f"{self.unchanged} unchanged"
        ]
        by_cat: dict[str, list[int]] = {}
        keys: tuple[list[SignalKey], ...] = (
            [k for _d, k, _t in self.added],
            [k for _d, k, _t in self.removed],
            [k for _d, k, _o, _n in self.rescored],
        )
        for i, changed in enumerate(keys):
            for key in changed:
                by_cat.setdefault(key[0], [0, 0, 0])[i] += 1
        out += [f"  {cat}: +{a} -{r} ~{c}" for cat, (a, r, c) in sorted(by_cat.items())]
        for sign, changes in (("+", self.added), ("-", self.removed)):
            out += [
                f"{sign} document {doc} {key[1]} {key[2]}[{key[3]}:{key[4]}] {text!r}"
                for doc, key, text in changes[:show]
            ]
        out += [
            f"~ document {doc} {key[1]} {key[2]}[{key[3]}:{key[4]}] score {old} -> {new}"
            for doc, key, old, new in self.rescored[:show]
        ]
        return out


def backtest(engine: Engine, flagger: Flagger, limit: int | None = None) -> BacktestReport:
    """Run ``flagger`` over every stored document's current version, in batches, and compare
    with the signals stored for it (presence and score). Nothing is written."""
    report = BacktestReport()
    stmt = (
        select(m.Document.id, m.Document.lang, m.DocumentVersion.id)
        .join(
            m.DocumentVersion,
            (m.DocumentVersion.document_id == m.Document.id)
            & (m.DocumentVersion.version == m.Document.version),
        )
        .order_by(m.Document.last_seen_at.desc(), m.Document.id)
    )
    if limit:
        stmt = stmt.limit(limit)
    with db.session_scope(engine) as session:
        ids = [(d, lang, v) for d, lang, v in session.execute(stmt)]
    for i in range(0, len(ids), BACKTEST_BATCH):
        _backtest_batch(engine, flagger, ids[i : i + BACKTEST_BATCH], report)
    return report


def _backtest_batch(
    engine: Engine,
    flagger: Flagger,
    batch: list[tuple[int, str | None, int]],
    report: BacktestReport,
) -> None:
    version_ids = [v for _d, _l, v in batch]
    with db.session_scope(engine) as session:
        texts = {
            v.id: (v.title, v.text)
            for v in session.scalars(
                select(m.DocumentVersion).where(m.DocumentVersion.id.in_(version_ids))
            )
        }
        stored: dict[int, dict[SignalKey, tuple[str, float]]] = {}
        for sig in session.scalars(select(m.Signal).where(m.Signal.version_id.in_(version_ids))):
            key = (sig.category, sig.rule, sig.field, sig.start, sig.end)
            stored.setdefault(sig.version_id, {})[key] = (sig.text, sig.score)
    for doc_id, lang, version_id in batch:
        title, text = texts[version_id]
        report.documents += 1
        now = {
            (x.category, x.rule, x.field, x.start, x.end): (x.text, x.score)
            for x in flagger.flag(title, text, lang)
        }
        before = stored.get(version_id, {})
        report.added += [(doc_id, k, t) for k, (t, _s) in now.items() if k not in before]
        report.removed += [(doc_id, k, t) for k, (t, _s) in before.items() if k not in now]
        for k in now.keys() & before.keys():
            if abs(now[k][1] - before[k][1]) > 1e-9:
                report.rescored.append((doc_id, k, before[k][1], now[k][1]))
            else:
                report.unchanged += 1


def import_documents(
    engine: Engine,
    flagger: Flagger,
    items: Iterable[tuple[int, ImportItem | str]],
    configured: Iterable[SourceConfig] = (),
) -> RunSummary:
    """Ingest documents read by :func:`crawlers.imports.read_documents` — the same dedupe,
    flag and store as crawled ones — under their named source: a configured one, one already
    in the database, or a new row of type "import". A bad line or document is reported in
    ``skipped`` and the rest go on; the run is recorded as kind "import"."""
    known = {s.name: s for s in configured}
    summary = RunSummary()
    ids: dict[str, int] = {}
    with db.session_scope(engine) as session:
        run = m.Run(kind="import")
        session.add(run)
        session.flush()
        run_id = run.id
    try:
        for _n, item in items:
            if isinstance(item, str):
                summary.skipped.append(item)
                continue
            summary.items_seen += 1
            try:
                if item.source not in ids:
                    ids[item.source] = _import_source(engine, item, known.get(item.source))
                result = ingest(engine, flagger, item.document, ids[item.source])
            except Exception as exc:  # one bad document never stops the others
                log.exception("import: could not ingest %s", item.document.url)
                summary.skipped.append(f"{item.document.url}: not stored ({exc})")
                continue
            summary.outcomes[result.outcome] += 1
            summary.signals_new += result.signals_new
    finally:
        with db.session_scope(engine) as session:
            _close_run(session.get_one(m.Run, run_id), summary)
    return summary


def _import_source(engine: Engine, item: ImportItem, configured: SourceConfig | None) -> int:
    with db.session_scope(engine) as session:
        if configured is not None:
            return sync_sources(session, [source_spec(configured)])[configured.name]
        existing = session.scalar(select(m.Source.id).where(m.Source.name == item.source))
        if existing is not None:
            return existing
        lang = item.document.lang
        spec = SourceSpec(
            item.source,
            f"import:{item.source}",
            "import",
            item.country or "regional",
            (lang,) if lang else (),
            "analysis",
        )
        return sync_sources(session, [spec])[item.source]
