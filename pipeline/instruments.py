"""The instruments step of ingest: the pipeline decides which instrument a stored document
is about (:mod:`instruments.linking`); the store reads the candidates and writes the decision
(:mod:`store.instrument_links`) — in the write transaction that stores the document, so a
document is never stored without its link, and a replay links nothing twice."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from regwatch.instruments import linking
from regwatch.store import instrument_links
from regwatch.store.documents import Flagged
from regwatch.store.models import Source

__all__ = ["link_stored"]


def link_stored(session: Session, document_id: int, flagged: Flagged) -> int | None:
    """Link stored document ``document_id`` to its instrument, if it is about one; the
    instrument's id."""
    if flagged.claim is None:
        return None
    country = session.scalar(select(Source.country).where(Source.name == flagged.doc.source))
    claim = linking.with_jurisdiction(flagged.claim, country)
    known = instrument_links.candidates(session, document_id, claim)
    decision = linking.decide(claim, known.candidates, refused=known.refused, linked=known.linked)
    if decision is None:
        return None
    return instrument_links.write(session, document_id, claim, decision)
