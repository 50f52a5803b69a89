"""Dedupe and identity, decided here alone: is a document new, a new version of a stored one,
unchanged, or the same story already stored (under another URL, or by another source)? Pure
functions over a snapshot of the store (:class:`store.documents.Stored`);
:mod:`pipeline.ingest` reads the snapshots and writes what these decide."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from regwatch.crawlers import Document
from regwatch.store.documents import Hit, Keys, Stored

__all__ = [
    "MIN_TEXT_FOR_CONTENT_DEDUPE",
    "Decision",
    "IngestResult",
    "Outcome",
    "classify",
    "identity_url",
    "keys",
    "plan",
    "settle",
]


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


# Same content under another URL counts as the same story only when there is enough text to
# tell stories apart: title-only items ("Проект постановления Правительства") would collide.
MIN_TEXT_FOR_CONTENT_DEDUPE = 200


def _by_content(doc: Document) -> bool:
    return len(doc.text) >= MIN_TEXT_FOR_CONTENT_DEDUPE


def _item_url(doc: Document) -> str:
    """The canonical URL of an item known by its guid (or, with neither guid nor link, by its
    content) that cannot have its link to itself: the link with ``#item-…`` (fragments are
    never part of a canonical link, so this never meets one)."""
    name = f"guid:{doc.guid}" if doc.guid else f"content:{doc.content_hash}"
    tag = hashlib.sha256(f"{doc.source}\n{name}".encode()).hexdigest()[:16]
    return f"{doc.canonical_url}#item-{tag}"


def identity_url(doc: Document) -> str:
    """Where the document is first looked for, and stored when new: its canonical link, or
    for an item without a link of its own, the feed's with ``#item-…``."""
    return doc.canonical_url if doc.linked else _item_url(doc)


def keys(docs: Sequence[Document]) -> Keys:
    """What to look up for ``docs``: identity URLs, (source, guid) pairs, content hashes."""
    return Keys(
        {identity_url(d) for d in docs},
        {(d.source, d.guid) for d in docs if d.guid},
        {d.content_hash for d in docs if _by_content(d)},
    )


@dataclass(frozen=True)
class Decision:
    """What a document is against the store, and what writing it needs."""

    outcome: Outcome
    document_id: int | None  # None for NEW
    url: str  # the canonical URL a NEW document is stored under
    adopt_guid: bool = False  # the stored document (stored before guids were) takes the guid


def _same(doc: Document, hit: Hit, url: str) -> Decision:
    outcome = Outcome.UNCHANGED if hit.content_hash == doc.content_hash else Outcome.UPDATED
    return Decision(outcome, hit.id, url, adopt_guid=doc.guid is not None and hit.guid is None)


def classify(doc: Document, known: Stored) -> Decision:
    """Identity, decided here once: the same source and guid is the same document; else the
    same canonical link — but from another source (an RSS and an Atom feed of one site) a
    DUPLICATE, never a version, and under another guid of the same source a document of its
    own; else stored content (long enough to tell stories apart) is a DUPLICATE of its first
    document; else NEW. Same document: UNCHANGED (same content) or UPDATED."""
    url = identity_url(doc)
    if doc.guid and (hit := known.guids.get((doc.source, doc.guid))) is not None:
        return _same(doc, hit, url)
    hit = known.urls.get(url)
    if hit is not None:
        if hit.source != doc.source:
            return Decision(Outcome.DUPLICATE, hit.id, url)
        if doc.guid is None or hit.guid is None:
            return _same(doc, hit, url)
        url = _item_url(doc)  # another item of the source on the same link
    twin = known.twins.get(doc.content_hash) if _by_content(doc) else None
    if twin is not None:
        return Decision(Outcome.DUPLICATE, twin[0], url)
    return Decision(Outcome.NEW, None, url)


def _marks(doc: Document) -> set[str]:
    """What ties a document to the others of its batch: its identity URL and its guid."""
    marks = {identity_url(doc)}
    if doc.guid:
        marks.add(f"{doc.source}\n{doc.guid}")
    return marks


def settle(known: Stored, docs: Sequence[Document]) -> list[IngestResult | None]:
    """Before flagging: the documents the store holds as they are (UNCHANGED, DUPLICATE),
    unless an earlier document of ``docs`` may change that (the same identity, or the twin's);
    None for the others, which are flagged and written in order."""
    out: list[IngestResult | None] = []
    earlier: set[str] = set()
    for doc in docs:
        result = None
        marks = _marks(doc)
        d = classify(doc, known)
        if doc.guid and (doc.source, doc.guid) in known.guids:  # found by guid: only a repeat
            ties = {f"{doc.source}\n{doc.guid}"}  # of that guid could change it
        else:
            ties = marks
        if not ties & earlier:
            twin = known.twins.get(doc.content_hash)
            twin_moves = d.outcome is Outcome.DUPLICATE and twin is not None and twin[1] in earlier
            if d.outcome in (Outcome.UNCHANGED, Outcome.DUPLICATE) and not twin_moves:
                assert d.document_id is not None
                if not d.adopt_guid:
                    result = IngestResult(d.outcome, d.document_id)
        out.append(result)
        earlier |= marks
    return out


def plan(known: Stored, docs: Sequence[Document]) -> tuple[list[int], list[int]]:
    """Under the write lock: the indexes of ``docs`` that are new and unrelated to the store
    and to earlier documents (inserted together), and the others (classified one at a time,
    in order, after them — each against the store as the earlier writes left it)."""
    fresh: list[int] = []
    later: list[int] = []
    seen: set[str] = set()
    hashes: set[str] = set()
    for i, doc in enumerate(docs):
        d = classify(doc, known)
        marks = _marks(doc)
        related = d.outcome is not Outcome.NEW or d.url != identity_url(doc) or bool(marks & seen)
        related = related or (_by_content(doc) and doc.content_hash in hashes)
        (later if related else fresh).append(i)
        seen |= marks
        hashes.add(doc.content_hash)
    return fresh, later
