"""Instruments written the way the linker writes them (``store.instrument_links.write``), for
the tests of what shows them: alerts, the digest, the calendar and the web pages. The drafts
and sentences are written by the team, in the shape of legalacts.egov.kz's listing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from regwatch.instruments.claims import Claim, Decision, StageClaim
from regwatch.instruments.vocabulary import Stage
from regwatch.store import db
from regwatch.store.instrument_links import write

__all__ = ["PORTAL", "link", "stage"]

PORTAL = "legalacts.egov.kz"


def stage(
    value: Stage, on: date | None = None, evidence: str = "", source: str = "portal"
) -> StageClaim:
    return StageClaim(value, source, evidence or f"portal: status {value.value}", on)


def link(
    engine: Engine,
    document_id: int,
    *,
    instrument_id: int | None = None,
    portal_id: str | None = "14826",
    title: str = "Проект Закона Республики Казахстан «Об искусственном интеллекте»",
    lang: str = "ru",
    jurisdiction: str | None = "kz",
    kind: str | None = "law",
    stages: tuple[StageClaim, ...] = (),
    consultation_end: date | None = None,
    consultation_start: date | None = None,
    themes: tuple[str, ...] = ("draft_instrument", "digital_security"),
    portal: str | None = PORTAL,
    method: str = "portal_id",
) -> int:
    """Link ``document_id`` to an instrument (a new one unless ``instrument_id``) with these
    facts; the instrument's id."""
    claim = Claim(
        lang=lang,
        portal=portal,
        portal_id=portal_id,
        jurisdiction=jurisdiction,
        kind=kind,
        title=title,
        title_keys=(title.casefold(),),
        stages=stages,
        consultation_start=consultation_start,
        consultation_end=consultation_end,
        consultation_source="portal" if portal else ("text" if consultation_end else None),
        themes=themes,
    )
    reason = f"same portal id {portal_id}" if instrument_id else "a new instrument"
    with db.session_scope(engine) as s:
        return write(s, document_id, claim, Decision(instrument_id, method, reason))
