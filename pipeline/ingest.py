"""The one ingest path, for feed entries, crawled pages and imported documents alike: dedupe
(:mod:`pipeline.dedupe`) → flag → write (:mod:`store.documents`), with the link to the
instrument a document is about in the same write (:mod:`pipeline.instruments`).

A batch goes through in chunks of :data:`BATCH`, with one read and one write transaction per
chunk. Each document gets the outcome it would get going through alone, in order: new
documents unrelated to anything stored or earlier in the chunk go in with multi-row inserts;
a known URL (a new version), a content twin or a repeat within the chunk is classified again
against the store as the earlier writes left it. Flagging runs outside any transaction, so
the write lock is held only to write. If a chunk's write fails, each document is written
alone, so one bad item never costs the others. Replaying documents (after a crash, or a
second run) stores nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from regwatch.crawlers import Document
from regwatch.errors import StoreError
from regwatch.instruments.linking import claim_of
from regwatch.nlp import Flagger, detect
from regwatch.nlp.index import search_terms
from regwatch.pipeline.dedupe import (
    IngestResult,
    Outcome,
    classify,
    identity_url,
    keys,
    plan,
    settle,
)
from regwatch.pipeline.instruments import link_stored
from regwatch.store import db
from regwatch.store import documents as store
from regwatch.store import evidence as captures
from regwatch.store.documents import Flagged, batched
from regwatch.store.evidence import EvidenceStore

__all__ = ["BATCH", "Preview", "flag_document", "ingest", "language_of", "preview", "store_batch"]

log = logging.getLogger("regwatch.pipeline")

BATCH = 200  # documents per transaction: big enough to amortize, small enough to hold briefly


def ingest(
    engine: Engine,
    flagger: Flagger,
    docs: Sequence[Document],
    *,
    batch: int = BATCH,
    evidence: EvidenceStore | None = None,
) -> Iterator[tuple[Document, IngestResult | Exception]]:
    """Dedupe, flag and store ``docs``, each under the source it names (``Document.source``,
    a source the store has); yield each with its result, or with the exception that kept it
    out (the others go on). With ``evidence``, a new document or version that raised a
    signal keeps its capture (``Document.capture``): the file is written before the
    transaction, its rows inside the one that stores the signals."""
    for chunk in batched(docs, batch):
        with db.session_scope(engine) as session:
            settled = settle(store.stored(session, keys(chunk)), chunk)
            store.mark_seen(session, [r.document_id for r in settled if r is not None])
            sources = store.source_ids(session, {d.source for d in chunk})
        results: dict[int, IngestResult | Exception] = {}
        todo: list[tuple[int, Flagged]] = []
        for i, (doc, result) in enumerate(zip(chunk, settled, strict=True)):
            if result is not None:
                results[i] = result
            elif doc.source not in sources:
                results[i] = StoreError(
                    f"pipeline: {doc.url} comes from source {doc.source!r}, which is not in "
                    "the database; 'regwatch collect' adds the configured sources"
                )
            else:
                try:
                    flagged = flag_document(flagger, doc)
                    if evidence is not None and flagged.matches and doc.capture is not None:
                        flagged = replace(flagged, capture=evidence.put(doc.capture))
                    todo.append((i, flagged))
                except Exception as exc:  # one bad item never stops the others
                    log.exception("could not flag %s", doc.url)
                    results[i] = exc
        try:
            written = store_batch(engine, [f for _, f in todo])
            results.update((i, r) for (i, _), r in zip(todo, written, strict=True))
        except Exception:  # the chunk failed as a whole: each document on its own
            log.warning("batch of %d documents failed; storing them one by one", len(todo))
            for i, flagged in todo:
                try:
                    results[i] = _store_alone(engine, flagged)
                except Exception as exc:
                    log.exception("could not store %s", flagged.doc.url)
                    results[i] = exc
        for i, doc in enumerate(chunk):
            yield doc, results[i]


def flag_document(flagger: Flagger, doc: Document) -> Flagged:
    lang = language_of(doc)
    matches = flagger.flag(doc.title, doc.text, lang)
    return Flagged(
        doc,
        lang,
        matches,
        search_terms(f"{doc.title}\n{doc.text}"),
        claim=claim_of(doc, lang, matches),
    )


def store_batch(engine: Engine, items: Sequence[Flagged]) -> list[IngestResult]:
    """The write step of :func:`ingest`: flagged documents in one write transaction, deduped
    again under the lock; results in order."""
    if not items:
        return []
    with db.session_scope(engine) as session:
        return _write(session, items)


def _write(session: Session, items: Sequence[Flagged]) -> list[IngestResult]:
    db.write_lock(session)
    docs = [f.doc for f in items]
    fresh, later = plan(store.stored(session, keys(docs)), docs)  # again, under the lock
    results: dict[int, IngestResult] = {}
    ids = store.insert_new(
        session, [items[i] for i in fresh], [identity_url(docs[i]) for i in fresh]
    )
    for i, doc_id in zip(fresh, ids, strict=True):
        results[i] = IngestResult(Outcome.NEW, doc_id, len(items[i].matches))
        link_stored(session, doc_id, items[i])
    for i in later:
        results[i] = _write_one(session, items[i])
        session.flush()
    written = (Outcome.NEW, Outcome.UPDATED)
    captures.link(
        session,
        [
            (results[i].document_id, f.capture)
            for i, f in enumerate(items)
            if f.capture is not None and results[i].outcome in written
        ],
    )
    return [results[i] for i in range(len(items))]


def _write_one(session: Session, flagged: Flagged) -> IngestResult:
    doc = flagged.doc
    decision = classify(doc, store.stored(session, keys([doc])))
    outcome, doc_id = decision.outcome, decision.document_id
    if outcome is Outcome.NEW:
        [new_id] = store.insert_new(session, [flagged], [decision.url])
        link_stored(session, new_id, flagged)
        return IngestResult(outcome, new_id, len(flagged.matches))
    assert doc_id is not None
    if decision.adopt_guid and doc.guid:
        store.adopt_guid(session, doc_id, doc.guid)
    if outcome is not Outcome.UPDATED:  # UNCHANGED, DUPLICATE: nothing else to write
        return IngestResult(outcome, doc_id)
    earlier = store.version_with(session, doc_id, doc.content_hash)
    if earlier is not None:  # changed back: that version is current again
        new = store.restore_version(session, doc_id, earlier, flagged)
    else:
        new = store.add_version(session, doc_id, flagged)
    link_stored(session, doc_id, flagged)  # a new version may bring a stage or a deadline
    return IngestResult(outcome, doc_id, new)


def _store_alone(engine: Engine, flagged: Flagged) -> IngestResult:
    try:
        [result] = store_batch(engine, [flagged])
        return result
    except IntegrityError:
        # Another writer stored the same document between our two transactions.
        with db.session_scope(engine) as session:
            doc = flagged.doc
            decision = classify(doc, store.stored(session, keys([doc])))
            if decision.outcome is not Outcome.UNCHANGED or decision.document_id is None:
                raise
            return IngestResult(Outcome.UNCHANGED, decision.document_id)


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
