"""Dedupe, decided here alone: is a document new, a new version of a stored one, unchanged,
or the same story already stored under another URL? Pure functions over a snapshot of the
store (:class:`store.documents.Stored`); :mod:`pipeline.ingest` reads the snapshots and
writes what these decide."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from regwatch.crawlers import Document
from regwatch.store.documents import Stored

__all__ = [
    "MIN_TEXT_FOR_CONTENT_DEDUPE",
    "IngestResult",
    "Outcome",
    "classify",
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


def keys(docs: Sequence[Document]) -> tuple[set[str], set[str]]:
    """The canonical URLs and content hashes to look up for ``docs``."""
    return {d.canonical_url for d in docs}, {d.content_hash for d in docs if _by_content(d)}


def classify(doc: Document, known: Stored) -> tuple[Outcome, int | None]:
    """The rule: a stored URL is UNCHANGED (same content) or UPDATED; else stored content
    (long enough to tell stories apart) under another URL is a DUPLICATE of its first
    document; else NEW. With the document id it concerns (None for NEW)."""
    url = known.urls.get(doc.canonical_url)
    if url is not None:
        return (Outcome.UNCHANGED if url[1] == doc.content_hash else Outcome.UPDATED), url[0]
    twin = known.twins.get(doc.content_hash) if _by_content(doc) else None
    return (Outcome.DUPLICATE, twin[0]) if twin is not None else (Outcome.NEW, None)


def settle(known: Stored, docs: Sequence[Document]) -> list[IngestResult | None]:
    """Before flagging: the documents the store holds as they are (UNCHANGED, DUPLICATE),
    unless an earlier document of ``docs`` may change that (the same URL, or the twin's);
    None for the others, which are flagged and written in order."""
    out: list[IngestResult | None] = []
    earlier: set[str] = set()
    for doc in docs:
        result = None
        if doc.canonical_url not in earlier:
            outcome, doc_id = classify(doc, known)
            twin_moves = outcome is Outcome.DUPLICATE and (
                known.twins[doc.content_hash][1] in earlier
            )
            if outcome in (Outcome.UNCHANGED, Outcome.DUPLICATE) and not twin_moves:
                assert doc_id is not None
                result = IngestResult(outcome, doc_id)
        out.append(result)
        earlier.add(doc.canonical_url)
    return out


def plan(known: Stored, docs: Sequence[Document]) -> tuple[list[int], list[int]]:
    """Under the write lock: the indexes of ``docs`` that are new and unrelated to the store
    and to earlier documents (inserted together), and the others (classified one at a time,
    in order, after them — each against the store as the earlier writes left it)."""
    fresh: list[int] = []
    later: list[int] = []
    urls: set[str] = set()
    hashes: set[str] = set()
    for i, doc in enumerate(docs):
        related = classify(doc, known)[0] is not Outcome.NEW or doc.canonical_url in urls
        related = related or (_by_content(doc) and doc.content_hash in hashes)
        (later if related else fresh).append(i)
        urls.add(doc.canonical_url)
        hashes.add(doc.content_hash)
    return fresh, later
