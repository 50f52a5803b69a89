"""Linking reads what bears on one document, not every instrument sharing its title key: a
feed of a thousand numbered drafts about "the AI law" once made each link read them all."""

from __future__ import annotations

from sqlalchemy import Engine, event

from regwatch.crawlers import Document
from regwatch.instruments.linking import claim_of
from regwatch.nlp import Flagger
from regwatch.pipeline import ingest
from regwatch.store import db
from regwatch.store.instrument_links import candidates
from regwatch.store.sources import SourceSpec, sync_sources


def _draft(n: int) -> Document:
    return Document(
        url=f"https://news.example/n/{n}",
        title=f"Законопроект об искусственном интеллекте № {n}",
        text=f"Министерство цифрового развития внесло законопроект об ИИ № {n}.",
        source="feed",
    )


def test_numbered_drafts_sharing_a_title_key_are_not_each_others_candidates(
    engine: Engine, flagger: Flagger
) -> None:
    with db.session_scope(engine) as s:
        sync_sources(s, [SourceSpec("feed", "https://news.example/rss", "rss", "kz", ("ru",), "news")])
    list(ingest(engine, flagger, [_draft(n) for n in range(60)]))
    doc = _draft(1000)
    claim = claim_of(doc, "ru", flagger.flag(doc.title, doc.text, "ru"))
    assert claim is not None and claim.number_key and claim.title_keys
    with db.session_scope(engine) as s:
        known = candidates(s, None, claim)
    assert known.candidates == []  # 60 instruments share its title key; none has its number

    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    list(ingest(engine, flagger, [_draft(n) for n in range(2000, 2010)]))
    per_document = len(statements) / 10
    assert per_document < 40, per_document  # was one query per candidate: 60+ each
