"""What the linker works with: a document's :class:`Claim` about the instrument it is about,
the stored instruments it could join (:class:`Candidate`) and the :class:`Decision` the
pipeline hands the store to write. Plain data: the store imports these, never the linker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from regwatch.instruments.vocabulary import Stage

__all__ = ["Candidate", "Claim", "Decision", "StageClaim"]


@dataclass(frozen=True)
class StageClaim:
    """The instrument is at ``stage`` by this document's ``source`` ("portal" or "text")."""

    stage: Stage
    source: str
    evidence: str  # the sentence, or "portal: <field>"
    on: date | None = None


@dataclass(frozen=True)
class Claim:
    """What one document says about the instrument it is about."""

    lang: str
    portal: str | None = None
    portal_id: str | None = None
    jurisdiction: str | None = None
    kind: str | None = None
    number: str | None = None  # as stated
    number_key: str | None = None  # normalised (:func:`instruments.keys.number_key`)
    title: str | None = None  # the instrument's own title, when the page states it (portal)
    title_keys: tuple[str, ...] = ()  # what title linking compares (instruments.keys)
    subject: str | None = None  # what it is about ("ai"): instruments/data/subjects.toml
    issuing_body: str | None = None
    stages: tuple[StageClaim, ...] = ()
    consultation_start: date | None = None
    consultation_end: date | None = None
    consultation_source: str | None = None  # "portal" | "text"
    themes: tuple[str, ...] = ()  # the categories of the document's signals


@dataclass(frozen=True)
class Candidate:
    """A stored instrument (the one it was merged into, where merged) as the linker sees it."""

    id: int
    jurisdiction: str | None
    kind: str | None
    number_key: str | None
    portal: str | None
    portal_id: str | None
    title_keys: frozenset[str] = field(default_factory=frozenset)
    documents: tuple[int, ...] = ()  # some linked documents, for the reason's wording


@dataclass(frozen=True)
class Decision:
    """Link the document to instrument ``instrument_id`` (None: a new instrument made of the
    claim), because ``reason``."""

    instrument_id: int | None
    method: str  # portal_id | number | title | manual
    reason: str
