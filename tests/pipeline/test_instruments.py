"""Linking inside the one ingest path, on both engines: a portal page and articles in two
languages join one instrument in the write that stores them; a replay stores nothing twice;
a new version brings its stage; an unlinked document is never linked back."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, func, select

from regwatch.crawlers import Document
from regwatch.instruments import InstrumentFacts, Stage
from regwatch.nlp import Flagger
from regwatch.pipeline.ingest import ingest
from regwatch.store import db
from regwatch.store import instrument_links as links
from regwatch.store.instrument_models import (
    Instrument,
    InstrumentDocument,
    InstrumentEvent,
    InstrumentTitle,
)
from regwatch.store.instruments import get_instrument, instruments_of_document
from regwatch.store.sources import SourceSpec, sync_sources

WHEN = datetime(2026, 11, 20, tzinfo=UTC)
PORTAL = Document(
    "https://legalacts.egov.kz/npa/view?id=14552",
    "Проект Закона Республики Казахстан «Об искусственном интеллекте»",
    "Проект Закона «Об искусственном интеллекте». Публичное обсуждение до 04.12.2026.",
    "legalacts",
    published=WHEN,
    instrument=InstrumentFacts(
        "legalacts.egov.kz", "14552", "kz", "law", title="Об искусственном интеллекте",
        lang="ru", issuing_body="МЦРИАП", stage=Stage.PUBLIC_DISCUSSION, stage_date=date(2026, 11, 20),
        consultation_start=date(2026, 11, 20), consultation_end=date(2026, 12, 4),
    ),
)  # fmt: skip
RU = Document(
    "https://news.example/ru/1",
    "Законопроект об искусственном интеллекте вынесен на обсуждение",
    "Министерство разместило проект закона об искусственном интеллекте на портале. "
    "Общественное обсуждение продлится до 4 декабря.",
    "news",
    published=WHEN,
)
KK = Document(
    "https://news.example/kk/1",
    "Жасанды интеллект туралы заң жобасы",
    "Министрлік жасанды интеллект туралы заң жобасын қоғамдық талқылауға шығарды.",
    "news",
    published=WHEN,
)


def _counts(engine: Engine) -> tuple[int, ...]:
    with db.session_scope(engine) as s:
        return tuple(
            s.scalar(select(func.count()).select_from(t)) or 0
            for t in (Instrument, InstrumentDocument, InstrumentEvent, InstrumentTitle)
        )


def _ids(engine: Engine, flagger: Flagger, docs: list[Document]) -> list[int]:
    out = []
    for _, result in ingest(engine, flagger, docs):
        assert not isinstance(result, Exception), result
        out.append(result.document_id)
    return out


def test_ingest_links_and_replays_nothing_twice(engine: Engine, flagger: Flagger) -> None:
    with db.session_scope(engine) as s:
        sync_sources(s, [SourceSpec("legalacts", "https://legalacts.egov.kz/", "html", "kz", ("ru",), "gov"),
                         SourceSpec("news", "https://news.example/", "rss", "kz", ("ru", "kk"), "news")])  # fmt: skip
    portal_id, ru_id, kk_id = _ids(engine, flagger, [PORTAL, RU, KK])
    with db.session_scope(engine) as s:
        [shown] = instruments_of_document(s, ru_id)
        assert shown.method == "title" and "same title key law|ai (kz)" in shown.reason
        assert [d.instrument_id for d in instruments_of_document(s, kk_id)] == [shown.instrument_id]
        found = get_instrument(s, shown.instrument_id)
        assert found is not None
        inst = found.instrument
        assert (inst.portal_id, inst.stage, inst.consultation_end, inst.documents) == (
            "14552", Stage.PUBLIC_DISCUSSION, date(2026, 12, 4), 3)  # fmt: skip
        assert {t.lang for t in found.titles} == {"ru", "kk"}
        assert [e.advanced for e in found.events].count(True) == 1  # one public_discussion change
    before = _counts(engine)
    _ids(engine, flagger, [PORTAL, RU, KK])  # a replay (a second run, or after a crash)
    assert _counts(engine) == before
    # a new version of the Russian article: first reading — its stage event, once
    ru2 = Document(RU.url, "Мажилис одобрил законопроект об ИИ в первом чтении",
                   "Мажилис одобрил в первом чтении проект закона «Об искусственном интеллекте».",
                   "news", published=datetime(2026, 11, 28, tzinfo=UTC))  # fmt: skip
    _ids(engine, flagger, [ru2, ru2])
    with db.session_scope(engine) as s:
        found = get_instrument(s, shown.instrument_id)
        assert found is not None and found.instrument.stage is Stage.FIRST_READING
        assert found.instrument.documents == 3
        links.unlink(s, kk_id, shown.instrument_id)
    kk2 = Document(
        KK.url, KK.title, KK.text + " Құжат Мәжіліске жіберіледі.", "news", published=WHEN
    )
    _ids(engine, flagger, [kk2])
    with db.session_scope(engine) as s:
        statuses = {(d.instrument_id, d.status) for d in instruments_of_document(s, kk_id)}
        assert (shown.instrument_id, "unlinked") in statuses
        assert (shown.instrument_id, "linked") not in statuses
        found = get_instrument(s, shown.instrument_id)
        assert found is not None and found.instrument.documents == 2
        assert portal_id in {link.document_id for link in found.links}
