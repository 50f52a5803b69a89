"""The instrument page's data on SQLite and PostgreSQL: contradicting and unlinked evidence
marked in the timeline, and the archived-captures hook — nothing without the evidence tables,
the count per document once they exist."""

from __future__ import annotations

from sqlalchemy import Engine

from regwatch.instruments.vocabulary import Stage
from regwatch.nlp import Flagger
from regwatch.store import db
from regwatch.store.instrument_links import unlink
from regwatch.store.models import Capture, DocumentCapture, utcnow
from regwatch.web.instrument_views import captured, instrument_page
from tests.alerts.conftest import seed
from tests.instrument_seed import link, stage


def test_timeline_marks_contradicting_and_unlinked_evidence(
    engine: Engine, flagger: Flagger
) -> None:
    seeded = seed(engine, flagger)
    kz, tj, uz = (seeded.doc_ids[k] for k in ("kz", "tj", "uz"))
    iid = link(engine, kz, stages=(stage(Stage.SUBMITTED),))
    link(engine, tj, instrument_id=iid, stages=(stage(Stage.PUBLIC_DISCUSSION, source="text"),))
    link(engine, uz, instrument_id=iid, stages=(stage(Stage.FIRST_READING, source="text"),))
    with db.session_scope(engine) as s:
        unlink(s, uz, iid)
    with db.session_scope(engine) as s:
        page = instrument_page(s, iid)
    assert page is not None
    rows = [(r.stage_value, r.contradicts, r.counted) for r in page.timeline]
    assert sorted(rows) == [
        ("first_reading", False, False),  # its document was unlinked: shown, not counted
        ("public_discussion", True, True),  # behind the current stage: shown, not applied
        ("submitted", False, True),
    ]
    assert page.stage == "Submitted to the Mazhilis"
    assert [t.document_id for t in page.texts] == sorted([kz, tj])  # linked ones only
    assert page.captures == {}


def test_captures_hook_counts_archived_copies_once_the_table_exists(
    engine: Engine, flagger: Flagger
) -> None:
    seeded = seed(engine, flagger)
    kz = seeded.doc_ids["kz"]
    iid = link(engine, kz)
    with db.session_scope(engine) as s:
        assert captured(s, [kz]) == {}  # nothing archived yet
    with db.session_scope(engine) as s:  # two archived versions, as store.evidence writes them
        for n in (1, 2):
            cap = Capture(sha256=f"{n:064x}", url="http://127.0.0.1/kz", captured_at=utcnow(),
                          size=10, records=3)  # fmt: skip
            s.add(cap)
            s.flush()
            s.add(DocumentCapture(document_id=kz, capture_id=cap.id, version=n))
    with db.session_scope(engine) as s:
        page = instrument_page(s, iid)
    assert page is not None and page.captures == {kz: 2}
