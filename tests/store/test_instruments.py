"""The instruments store on both engines: writing a decision (new instrument, link, titles,
events), replaying it (nothing twice), a stage that never moves backwards silently, unlink
that is never undone by relinking, merge and unmerge, and the read API the calendar uses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from regwatch.errors import UsageError
from regwatch.instruments.claims import Claim, Decision, StageClaim
from regwatch.instruments.vocabulary import Stage
from regwatch.store import db
from regwatch.store import instrument_links as links
from regwatch.store import instruments as reads
from regwatch.store import models as m
from regwatch.store.instrument_models import InstrumentDocument, InstrumentEvent


def _docs(engine: Engine, n: int) -> list[int]:
    with db.session_scope(engine) as s:
        src = m.Source(name="s", url="https://s.example/", type="rss", country="kz",
                       languages=["ru"], tier="gov")  # fmt: skip
        s.add(src)
        s.flush()
        ids = []
        for i in range(n):
            d = m.Document(source_id=src.id, url=f"https://s.example/{i}",
                           canonical_url=f"https://s.example/{i}", title=f"Статья {i}",
                           lang="ru", content_hash=f"h{i}",
                           published_at=datetime(2026, 11, 1 + i, tzinfo=UTC))  # fmt: skip
            s.add(d)
            s.flush()
            s.add(m.DocumentVersion(document_id=d.id, version=1, title=d.title, text="t",
                                    content_hash=d.content_hash))  # fmt: skip
            ids.append(d.id)
        return ids


PORTAL = Claim(
    lang="ru",
    portal="legalacts.egov.kz",
    portal_id="14552",
    jurisdiction="kz",
    kind="law",
    title="Об искусственном интеллекте",
    title_keys=("kz|law|ai",),
    issuing_body="МЦРИАП",
    stages=(StageClaim(Stage.PUBLIC_DISCUSSION, "portal", "portal: status", date(2026, 11, 20)),),
    consultation_start=date(2026, 11, 20),
    consultation_end=date(2026, 12, 4),
    consultation_source="portal",
    themes=("draft_instrument",),
)


def _write(engine: Engine, doc: int, claim: Claim, into: int | None = None) -> int:
    with db.session_scope(engine) as s:
        decision = Decision(into, "title" if into else "portal_id", "because")
        return links.write(s, doc, claim, decision)


def test_write_read_and_replay(engine: Engine) -> None:
    d1, d2 = _docs(engine, 2)
    iid = _write(engine, d1, PORTAL)
    assert _write(engine, d1, PORTAL, iid) == iid  # a replay: nothing twice
    text = Claim(lang="kk", jurisdiction="kz", kind="law", title_keys=("kz|law|ai",),
                 stages=(StageClaim(Stage.FIRST_READING, "text", "бірінші оқылымда",
                                    date(2026, 11, 25)),),
                 themes=("ai_governance_body",))  # fmt: skip
    _write(engine, d2, text, iid)
    with db.session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(InstrumentDocument)) == 2
        assert s.scalar(select(func.count()).select_from(InstrumentEvent)) == 2
        found = reads.get_instrument(s, iid)
        assert found is not None
        inst = found.instrument
        assert (inst.stage, inst.stage_date, inst.documents) == (
            Stage.FIRST_READING, date(2026, 11, 25), 2)  # fmt: skip
        assert inst.themes == ("ai_governance_body", "draft_instrument")
        assert inst.title == "Об искусственном интеллекте" and inst.issuing_body == "МЦРИАП"
        assert {t.lang for t in found.titles} == {"ru", "kk"}
        assert [e.stage for e in found.events] == [Stage.PUBLIC_DISCUSSION, Stage.FIRST_READING]
        assert all(link.versions == 1 for link in found.links)
        changes = reads.stage_changes_since(s, datetime(2026, 1, 1, tzinfo=UTC))
        assert [(c.stage, c.previous) for c in changes] == [
            (Stage.PUBLIC_DISCUSSION, None), (Stage.FIRST_READING, Stage.PUBLIC_DISCUSSION)]  # fmt: skip
        assert changes[1].event_id == found.events[1].id
        assert changes[1].outbox_key == f"instrument-{iid}-first_reading"
        assert reads.stage_changes_since(s, changes[1].recorded_at) == []
        closing = reads.consultations_closing(s, date(2026, 12, 1), 7)
        assert [c.id for c in closing] == [iid]
        assert reads.consultations_closing(s, date(2026, 12, 5), 7) == []
        assert [
            i.id for i in reads.list_instruments(s, country="kz", theme="draft_instrument")
        ] == [iid]
        assert reads.list_instruments(s, country="uz") == []
        assert reads.list_instruments(s, stage="signed") == []
        assert [d.instrument_id for d in reads.instruments_of_document(s, d2)] == [iid]


def test_a_stage_never_moves_backwards_silently(engine: Engine) -> None:
    d1, d2, d3 = _docs(engine, 3)
    signed = Claim(lang="ru", title_keys=("k",),
                   stages=(StageClaim(Stage.SIGNED, "text", "подписал", date(2026, 11, 10)),))  # fmt: skip
    iid = _write(engine, d1, signed)
    later = Claim(lang="ru", title_keys=("k",), stages=(
        StageClaim(Stage.PUBLIC_DISCUSSION, "text", "обсуждение", date(2026, 11, 12)),))  # fmt: skip
    earlier = Claim(lang="ru", title_keys=("k",), stages=(
        StageClaim(Stage.PUBLIC_DISCUSSION, "text", "обсуждение", date(2026, 10, 1)),))  # fmt: skip
    _write(engine, d2, later, iid)
    _write(engine, d3, earlier, iid)
    with db.session_scope(engine) as s:
        found = reads.get_instrument(s, iid)
        assert found is not None and found.instrument.stage is Stage.SIGNED
        by_doc = {e.document_id: e for e in found.events}
        assert by_doc[d2].contradicts and not by_doc[d2].advanced
        assert (
            not by_doc[d3].contradicts and not by_doc[d3].advanced
        )  # history, not a contradiction


def test_unlink_is_kept_and_merge_is_reversible(engine: Engine) -> None:
    d1, d2 = _docs(engine, 2)
    a = _write(engine, d1, PORTAL)
    other = Claim(lang="ru", number="ЗРУ-1018", number_key="зру-1018", title_keys=("x",),
                  stages=(StageClaim(Stage.SIGNED, "text", "подписал", date(2026, 11, 28)),))  # fmt: skip
    b = _write(engine, d2, other)
    with db.session_scope(engine) as s:
        links.merge(s, a, b)
    with db.session_scope(engine) as s:
        assert [i.id for i in reads.list_instruments(s)] == [a]
        found = reads.get_instrument(s, a)
        assert found is not None and found.merged == [b]
        assert found.instrument.stage is Stage.SIGNED and found.instrument.documents == 2
        known = links.candidates(s, None, Claim(lang="ru", number_key="зру-1018"))
        assert [c.id for c in known.candidates] == [a]  # the merged one shows under a
        with pytest.raises(UsageError, match="one instrument already"):
            links.merge(s, a, b)
    with db.session_scope(engine) as s:
        links.unmerge(s, b)
    with db.session_scope(engine) as s:
        found = reads.get_instrument(s, a)
        assert found is not None and found.instrument.stage is Stage.PUBLIC_DISCUSSION
        links.unlink(s, d1, a)
    with db.session_scope(engine) as s:
        known = links.candidates(s, d1, PORTAL)
        assert known.refused == frozenset({a}) and known.linked == frozenset()
    assert _write(engine, d1, PORTAL, a) == a  # a relink does not resurrect the pair
    with db.session_scope(engine) as s:
        found = reads.get_instrument(s, a)
        assert found is not None and [link.status for link in found.links] == ["unlinked"]
        assert found.instrument.stage is None and found.instrument.documents == 0
        assert (
            reads.stage_changes_since(s, datetime.now(UTC) - timedelta(days=1))[0].instrument.id
            == b
        )
        with pytest.raises(UsageError, match="not linked"):
            links.unlink(s, d1, a)


def test_a_portal_document_unlinked_then_seen_again_makes_no_duplicate_portal_id(
    engine: Engine,
) -> None:
    [d1] = _docs(engine, 1)
    a = _write(engine, d1, PORTAL)
    with db.session_scope(engine) as s:
        links.unlink(s, d1, a)
    b = _write(engine, d1, PORTAL)  # decide() offers a new instrument: the old one is refused
    assert b != a
    with db.session_scope(engine) as s:
        found = reads.get_instrument(s, b)
        assert found is not None and found.instrument.portal_id is None
        assert found.instrument.title == "Об искусственном интеллекте"
