"""Every write of instruments: a document linked to one (made new when none fits), its titles,
stage events and consultation dates; unlinking and merging (reversible). The pipeline decides
(:mod:`instruments.linking`); this module reads the candidates it decides among and writes the
decision, inside the caller's transaction (ingest's write transaction, so a document is
stored with its link or not at all).

A stage never moves backwards silently: an event at an earlier stage than the instrument's,
dated on or after the current stage's date (or undated), is kept with ``contradicts`` set and
changes nothing; an earlier-dated one is history. Withdrawn and rejected end a procedure from
any point.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from regwatch.errors import UsageError
from regwatch.instruments.claims import Candidate, Claim, Decision, StageClaim
from regwatch.instruments.vocabulary import STAGE_RANK, TERMINAL_STAGES, Stage
from regwatch.store.instrument_models import (
    LINKED,
    UNLINKED,
    Instrument,
    InstrumentDocument,
    InstrumentEvent,
    InstrumentTitle,
)
from regwatch.store.instruments import counted_out, members
from regwatch.store.models import Document, mentions_key, utcnow

__all__ = [
    "Known",
    "candidates",
    "link_manually",
    "merge",
    "recompute",
    "unlink",
    "unmerge",
    "write",
]


@dataclass(frozen=True)
class Known:
    """What the store knows that bears on linking one document."""

    candidates: list[Candidate]
    refused: frozenset[int]  # instruments this document was unlinked from: never again
    linked: frozenset[int]  # instruments it is linked to now (a new version keeps them)


class _Merges:
    """Which instrument was merged into which, read once per call (there are few)."""

    def __init__(self, session: Session) -> None:
        self.up: dict[int, int] = {
            i: j
            for i, j in session.execute(
                select(Instrument.id, Instrument.merged_into).where(
                    Instrument.merged_into.is_not(None)
                )
            )
            if j is not None
        }

    def canonical(self, instrument_id: int) -> int:
        current, seen = instrument_id, {instrument_id}
        while (up := self.up.get(current)) is not None and up not in seen:
            seen.add(up)
            current = up
        return current

    def members(self, instrument_id: int) -> list[int]:
        if not self.up:
            return [instrument_id]
        merged = (i for i in self.up if i != instrument_id and self.canonical(i) == instrument_id)
        return [instrument_id, *sorted(merged)]


def _canonical(session: Session, instrument_id: int) -> int:
    return _Merges(session).canonical(instrument_id)


def candidates(session: Session, document_id: int | None, claim: Claim) -> Known:
    """The instruments ``claim`` could be about: same portal id, same number, or a shared
    title key; each as the instrument it shows under (merges followed). A few queries
    whatever the number of candidates."""
    I, T, L = Instrument, InstrumentTitle, InstrumentDocument  # noqa: E741
    merges = _Merges(session)
    found: set[int] = set()
    if claim.portal and claim.portal_id:
        found.update(
            session.scalars(
                select(I.id).where(I.portal == claim.portal, I.portal_id == claim.portal_id)
            )
        )
    if claim.number_key:
        found.update(session.scalars(select(I.id).where(I.number_key == claim.number_key)))
    if claim.title_keys:
        # Only instruments the title could join (instruments.linking.decide's title rule):
        # one standing alone (not merged either way) whose country, number or portal id
        # disagrees never can — and a thousand such rows made every link read them all.
        M = aliased(Instrument)
        alone = and_(I.merged_into.is_(None), ~exists(select(M.id).where(M.merged_into == I.id)))
        barred = [
            I.jurisdiction.is_not(None)
            if claim.jurisdiction is None
            else or_(I.jurisdiction.is_(None), I.jurisdiction != claim.jurisdiction)
        ]
        if claim.number_key:
            barred.append(and_(I.number_key.is_not(None), I.number_key != claim.number_key))
        if claim.portal_id:
            barred.append(
                and_(
                    I.portal_id.is_not(None),
                    or_(I.portal != claim.portal, I.portal_id != claim.portal_id),
                )
            )
        found.update(
            session.scalars(
                select(T.instrument_id)
                .join(I, I.id == T.instrument_id)
                .where(T.title_key.in_(claim.title_keys), ~and_(alone, or_(*barred)))
                .distinct()
            )
        )
    refused: set[int] = set()
    linked: set[int] = set()
    if document_id is not None:
        for iid, status in session.execute(
            select(L.instrument_id, L.status).where(L.document_id == document_id)
        ):
            (linked if status == LINKED else refused).add(merges.canonical(iid))
    canon = sorted({merges.canonical(i) for i in found | linked})
    if not canon:
        return Known([], frozenset(refused), frozenset(linked))
    groups = {c: merges.members(c) for c in canon}
    owner = {m: c for c, group in groups.items() for m in group}
    every = sorted(owner)
    rows = {r.id: r for r in session.scalars(select(I).where(I.id.in_(every)))}
    keys: dict[int, set[str]] = {c: set() for c in canon}
    for iid, key in session.execute(
        select(T.instrument_id, T.title_key).where(T.instrument_id.in_(every)).distinct()
    ):
        keys[owner[iid]].add(key)
    # The first three linked documents of each group, in one query (a query per candidate
    # made linking quadratic when a thousand instruments shared a title key).
    # The first three of each member instrument hold the first three of its group.
    rank = (
        func.row_number().over(partition_by=L.instrument_id, order_by=L.document_id).label("rank")
    )
    firsts = (
        select(L.instrument_id, L.document_id, rank)
        .where(L.instrument_id.in_(every), L.status == LINKED)
        .subquery()
    )
    docs: dict[int, list[int]] = {c: [] for c in canon}
    for iid, doc_id in session.execute(
        select(firsts.c.instrument_id, firsts.c.document_id)
        .where(firsts.c.rank <= 3)
        .order_by(firsts.c.document_id)
    ):
        group_docs = docs[owner[iid]]
        if len(group_docs) < 3:
            group_docs.append(doc_id)
    out = []
    for c in canon:
        head, group = rows[c], [rows[m] for m in groups[c] if m in rows]
        # A merged member's portal id or number still identifies the group.
        portal = next(((r.portal, r.portal_id) for r in group if r.portal_id), (None, None))
        number = next((r.number_key for r in group if r.number_key), None)
        out.append(
            Candidate(
                c,
                head.jurisdiction,
                head.kind,
                head.number_key or number,
                head.portal or portal[0],
                head.portal_id or portal[1],
                frozenset(keys[c]),
                tuple(docs[c]),
            )
        )
    return Known(out, frozenset(refused), frozenset(linked))


def write(session: Session, document_id: int, claim: Claim, decision: Decision) -> int:
    """Link document ``document_id`` as ``decision`` says (making the instrument when it is
    new), record the claim's titles, stage events and dates on it; the instrument's id.
    Writing the same claim again adds nothing."""
    now = utcnow()
    merges = _Merges(session)
    if decision.instrument_id is None:
        row = Instrument(first_seen=now, last_seen=now, title="", themes="")
        session.add(row)
        session.flush()
    else:
        row = session.get_one(Instrument, merges.canonical(decision.instrument_id))
    group = merges.members(row.id)
    taken = bool(
        claim.portal_id
        and session.scalar(
            select(Instrument.id).where(
                Instrument.portal == claim.portal,
                Instrument.portal_id == claim.portal_id,
                Instrument.id != row.id,
            )
        )
    )  # another instrument has this portal id (one the document was unlinked from)
    _fill(row, claim, portal_id_free=not taken)
    row.last_seen = now
    L = InstrumentDocument
    existing = session.scalar(
        select(L).where(L.instrument_id.in_(group), L.document_id == document_id)
    )
    if existing is None:
        session.add(
            L(
                instrument_id=row.id,
                document_id=document_id,
                method=decision.method,
                reason=decision.reason,
                status=LINKED,
                linked_at=now,
            )
        )
    elif existing.status == UNLINKED:  # never resurrect an unlinked pair
        return row.id
    title = claim.title or session.scalar(select(Document.title).where(Document.id == document_id))
    for key in claim.title_keys:
        _add_title(session, row.id, claim.lang, title or "", key, document_id)
    for stage in claim.stages:
        _add_event(session, row, group, stage, document_id)
    session.flush()
    return row.id


def _fill(row: Instrument, claim: Claim, *, portal_id_free: bool = True) -> None:
    """The claim's facts on the instrument: a portal's win; a text's only fill gaps."""
    portal = claim.portal is not None and portal_id_free
    for attr in ("jurisdiction", "kind", "issuing_body", "subject"):
        value = getattr(claim, attr)
        if value and (portal or not getattr(row, attr)):
            setattr(row, attr, value)
    if claim.portal_id and not row.portal_id and portal_id_free:
        row.portal, row.portal_id = claim.portal, claim.portal_id
    if claim.number_key and (portal or not row.number_key):
        row.number, row.number_key = claim.number, claim.number_key
    if claim.title and (portal or not row.title):
        row.title = claim.title
    if claim.consultation_end and (
        claim.consultation_source == "portal" or not row.consultation_end
    ):
        row.consultation_end = claim.consultation_end
        row.consultation_start = claim.consultation_start or row.consultation_start
    elif claim.consultation_start and not row.consultation_start:
        row.consultation_start = claim.consultation_start
    if claim.themes:
        themes = {t for t in row.themes.split(",") if t} | set(claim.themes)
        row.themes = mentions_key(themes)


def _add_title(
    session: Session, instrument_id: int, lang: str, title: str, key: str, document_id: int
) -> None:
    T = InstrumentTitle
    if session.scalar(
        select(T.id).where(T.instrument_id == instrument_id, T.lang == lang, T.title_key == key)
    ):
        return
    session.add(T(instrument_id=instrument_id, lang=lang, title=title, title_key=key,
                  document_id=document_id))  # fmt: skip
    session.flush()


def _add_event(
    session: Session, row: Instrument, group: list[int], claim: StageClaim, document_id: int
) -> None:
    E = InstrumentEvent
    if session.scalar(
        select(E.id).where(
            E.instrument_id.in_(group),
            E.stage == claim.stage.value,
            E.document_id == document_id,
            E.source == claim.source,
        )
    ):
        return  # written before: a replay or an unchanged version
    advanced, contradicts = _against(row, claim)
    session.add(
        E(
            instrument_id=row.id,
            stage=claim.stage.value,
            stage_date=claim.on,
            document_id=document_id,
            source=claim.source,
            evidence=claim.evidence[:2000],
            advanced=advanced,
            contradicts=contradicts,
            recorded_at=utcnow(),
        )
    )
    if advanced:
        row.stage, row.stage_date = claim.stage.value, claim.on
    elif row.stage == claim.stage.value and claim.on and row.stage_date is None:
        row.stage_date = claim.on
    session.flush()


def _against(row: Instrument, claim: StageClaim) -> tuple[bool, bool]:
    """(moves the stage forward, contradicts the current stage)."""
    if row.stage is None:
        return True, False
    current = Stage(row.stage)
    if claim.stage == current:
        return False, False
    if current in TERMINAL_STAGES:
        return False, True
    if claim.stage in TERMINAL_STAGES or STAGE_RANK[claim.stage] > STAGE_RANK[current]:
        return True, False
    older = claim.on is not None and row.stage_date is not None and claim.on < row.stage_date
    return False, not older


def recompute(session: Session, instrument_id: int) -> None:
    """The instrument's stage from all its group's events (after a merge or an unmerge):
    the furthest non-contradicting stage, a terminal one if any."""
    row = session.get_one(Instrument, instrument_id)
    E = InstrumentEvent
    events = list(
        session.scalars(
            select(E)
            .where(
                E.instrument_id.in_(members(session, instrument_id)),
                E.contradicts.is_(False),
                ~counted_out(),
            )
            .order_by(E.id)
        )
    )
    if not events:
        row.stage, row.stage_date = None, None
        return
    best = max(
        events,
        key=lambda e: (Stage(e.stage) in TERMINAL_STAGES, STAGE_RANK[Stage(e.stage)], -e.id),
    )
    row.stage, row.stage_date = best.stage, best.stage_date


def unlink(session: Session, document_id: int, instrument_id: int) -> str:
    """Take document ``document_id`` off instrument ``instrument_id`` (or one merged into it);
    the pair stays recorded as unlinked so linking never joins them again. Its events stay
    (shown as the evidence of an unlinked document) but no longer count for the stage."""
    L = InstrumentDocument
    group = members(session, instrument_id)
    link = session.scalar(select(L).where(L.instrument_id.in_(group), L.document_id == document_id))
    if link is None or link.status == UNLINKED:
        raise UsageError(
            f"instruments: document {document_id} is not linked to instrument {instrument_id}; "
            f"'regwatch instruments show {instrument_id}' lists its documents"
        )
    link.status, link.unlinked_at = UNLINKED, utcnow()
    session.flush()
    recompute(session, _canonical(session, instrument_id))
    return f"document {document_id} unlinked from instrument {instrument_id}"


def link_manually(session: Session, document_id: int, instrument_id: int, note: str = "") -> None:
    """An analyst links a document (also one unlinked before)."""
    if session.get(Document, document_id) is None:
        raise UsageError(f"instruments: there is no document {document_id}")
    target = _canonical(session, _require(session, instrument_id).id)
    L = InstrumentDocument
    link = session.scalar(
        select(L).where(L.instrument_id.in_(members(session, target)), L.document_id == document_id)
    )
    reason = note or "linked by hand"
    if link is None:
        session.add(L(instrument_id=target, document_id=document_id, method="manual",
                      reason=reason, status=LINKED, linked_at=utcnow()))  # fmt: skip
    else:
        link.status, link.method, link.reason, link.unlinked_at = LINKED, "manual", reason, None
    session.flush()


def _require(session: Session, instrument_id: int) -> Instrument:
    row = session.get(Instrument, instrument_id)
    if row is None:
        raise UsageError(
            f"instruments: there is no instrument {instrument_id}; "
            "'regwatch instruments list' shows their ids"
        )
    return row


def merge(session: Session, into: int, other: int) -> str:
    """Instrument ``other`` is the same as ``into``: it shows under ``into`` from now on
    (its rows stay its own, so :func:`unmerge` gives them back)."""
    a, b = _require(session, into), _require(session, other)
    a_id, b_id = _canonical(session, a.id), _canonical(session, b.id)
    if a_id == b_id:
        raise UsageError(f"instruments: {into} and {other} are one instrument already")
    b_row = session.get_one(Instrument, b_id)
    b_row.merged_into = a_id
    a_row = session.get_one(Instrument, a_id)
    for attr in ("jurisdiction", "kind", "number", "number_key", "issuing_body",
                 "consultation_start", "consultation_end"):  # fmt: skip
        if getattr(a_row, attr) is None and getattr(b_row, attr) is not None:
            setattr(a_row, attr, getattr(b_row, attr))
    a_row.title = a_row.title or b_row.title
    a_row.themes = mentions_key(_themes([a_row.themes, b_row.themes]))
    a_row.first_seen = min(a_row.first_seen, b_row.first_seen)
    a_row.last_seen = max(a_row.last_seen, b_row.last_seen)
    session.flush()
    recompute(session, a_id)
    return f"instrument {b_id} merged into {a_id}; 'regwatch instruments unmerge {b_id}' undoes it"


def unmerge(session: Session, instrument_id: int) -> str:
    row = _require(session, instrument_id)
    if row.merged_into is None:
        raise UsageError(f"instruments: instrument {instrument_id} is not merged into another")
    target = _canonical(session, row.id)
    row.merged_into = None
    session.flush()
    recompute(session, target)
    recompute(session, row.id)
    return f"instrument {instrument_id} is its own again"


def _themes(values: Iterable[str]) -> set[str]:
    return {t for v in values for t in v.split(",") if t}
