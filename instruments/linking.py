"""Which instrument a document is about — decided, explained, and left to the store to write.

:func:`claim_of` reads what a document says about an instrument: the portal's facts
(``Document.instrument``) or, without them, its ``draft_instrument`` signals (their kind,
stage, number and date come from the flagger: nlp/attributes.py, nlp/rules/instruments.toml),
with the consultation deadline its text states (:mod:`instruments.deadlines`) and the title
keys of :mod:`instruments.keys`. A document with neither has no claim and links to nothing.

:func:`decide` picks among the stored candidates (:func:`store.instrument_links.candidates`),
in this order, and says why:

1. the instrument the document is linked to already (a new version keeps its link);
2. the same portal id — "same portal id legalacts.egov.kz/14552 as document 42";
3. the same number and a compatible kind — "same number ЗРУ-1018 and kind law as document 42";
4. a shared title key, the jurisdictions agreeing and no portal id or number disagreeing —
   "same title key law|ai (kz) as document 42";
5. otherwise a new instrument.

An instrument the document was unlinked from is never chosen again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from regwatch.instruments import keys
from regwatch.instruments.claims import Candidate, Claim, Decision, StageClaim
from regwatch.instruments.deadlines import consultation_dates
from regwatch.instruments.vocabulary import JURISDICTIONS, Stage

if TYPE_CHECKING:
    from regwatch.crawlers.document import Document
    from regwatch.nlp import Match

__all__ = [
    "DRAFT_CATEGORY",
    "GENERIC_RULES",
    "claim_of",
    "decide",
    "text_stage",
    "with_jurisdiction",
]

DRAFT_CATEGORY = "draft_instrument"
# Rules that find an instrument by its procedure, not by its name: their kind ("law") is a
# default, so a rule naming the instrument (a draft code, a draft decree) decides first.
GENERIC_RULES = frozenset(
    f"draft_instrument.{r}" for r in ("procedure", "chamber", "reading", "commissioned", "bill")
)
# Subjects that name the kind of instrument themselves.
_SUBJECT_KINDS = {"digital_code": "code"}

# The flagger's stage names (nlp/rules/instruments.toml) as procedure stages; "draft" (no
# stage named) says nothing about the stage.
_TEXT_STAGES = {
    "public_discussion": Stage.PUBLIC_DISCUSSION,
    "signed": Stage.SIGNED,
    "in_force": Stage.IN_FORCE,
}
# "passed_by_parliament" covers every reading and chamber: the sentence says which.
_READINGS = (
    (
        re.compile(r"третьем чтении|third reading|үшінші оқылым|uchinchi o'qish|үчүнчү окуу", re.I),
        Stage.THIRD_READING,
    ),
    (
        re.compile(
            r"втором чтении|second reading|екінші оқылым|ikkinchi o'qish|экинчи окуу"
            r"|хониши дуюм",
            re.I,
        ),
        Stage.SECOND_READING,
    ),
    (
        re.compile(
            r"первом чтении|first reading|бірінші оқылым|birinchi o'qish|биринчи окуу"
            r"|хониши аввал",
            re.I,
        ),
        Stage.FIRST_READING,
    ),
    (
        re.compile(r"сенат|senate|senat|маджлиси милли|majlisi milli|мажлиси милли", re.I),
        Stage.APPROVED_UPPER,
    ),
)


# A draft with no stage term (the flagger's "draft") may still be said to be submitted to
# parliament, withdrawn or rejected.
_CHAMBER = (
    r"(?:мажилис|сенат|парламент|жогорку кен[еe]ш|законодательн\w* палат|маджлис|маҷлис"
    r"|parliament|mazhilis|senate|legislative chamber|jogorku kenesh|majlis)"
)
_DRAFT_STAGES = (
    (re.compile(r"отозван|снят с рассмотрения|withdrawn|кері қайтарып алын|qaytarib olindi"
                r"|чакыртып алынды"), Stage.WITHDRAWN),
    (re.compile(r"отклонил|отклонен|rejected|voted down|қабылданбады|rad etildi|четке кагылды"),
     Stage.REJECTED),
    (re.compile(rf"(?:внес\w*|направлен\w*|поступил\w*)\s+(?:\w+\s+){{0,5}}?"
                rf"(?:в|на рассмотрение)\s+{_CHAMBER}"
                rf"|(?:submitted|sent|introduced)\s+(?:[\w'-]+\s+){{0,5}}?(?:to|in)\s+"
                rf"(?:the\s+)?{_CHAMBER}|(?:мәжіліс|парламент)\w*\s+(?:қарауына\s+)?енгіз"
                r"|qonunchilik palatasiga kiritil|жогорку кеңешке киргизил"), Stage.SUBMITTED),
)  # fmt: skip


def text_stage(name: str, sentence: str) -> Stage | None:
    """The procedure stage a draft_instrument signal's stage attribute names, refined by its
    sentence: for parliament, which reading and which chamber; for a bare draft, whether it
    was submitted to parliament, withdrawn or rejected."""
    if name in _TEXT_STAGES:
        return _TEXT_STAGES[name]
    folded = keys.normalise(sentence)
    if name == "draft":
        return next((stage for pattern, stage in _DRAFT_STAGES if pattern.search(folded)), None)
    if name != "passed_by_parliament":
        return None
    for pattern, stage in _READINGS:
        if pattern.search(folded):
            return stage
    return Stage.PASSED_LOWER


def _jurisdiction(countries: Sequence[str]) -> str | None:
    ours = sorted({c for c in countries if c in JURISDICTIONS})
    return ours[0] if len(ours) == 1 else None


def claim_of(doc: Document, lang: str, matches: Sequence[Match]) -> Claim | None:
    """What ``doc`` says about the instrument it is about; None when it is about none."""
    facts = doc.instrument
    drafts = sorted(
        (m for m in matches if m.category == DRAFT_CATEGORY),
        key=lambda m: (m.rule in GENERIC_RULES, -m.score, m.field != "title", m.start),
    )
    if facts is None and not drafts:
        return None
    published = doc.published.date() if doc.published else None
    primary = drafts[0] if drafts else None
    attrs = primary.attributes if primary else {}
    number = (facts.number if facts else None) or next(
        (m.attributes["number"] for m in drafts if m.attributes.get("number")), None
    )
    kind = (
        (facts.kind if facts else None)
        or keys.kind_of_number(number)
        or attrs.get("instrument")
        or None
    )
    jurisdiction = (facts.jurisdiction if facts else None) or (
        _jurisdiction(primary.countries) if primary else None
    )
    own_title = facts.title if facts else None
    subject = None
    amending = keys.amends(own_title) if own_title else False
    if own_title:
        subject = keys.nearest_subject(own_title)
    if primary is not None:
        where = max(primary.sentence.find(primary.text), 0) + len(primary.text)
        if subject is None:
            subject = keys.nearest_subject(primary.sentence, where)
        if not own_title:  # "законопроект о внесении изменений в …" names what it amends
            amending = keys.amends(primary.text + primary.sentence[where : where + 60])
    if subject is None:
        subject = keys.nearest_subject(doc.title)
    if subject in _SUBJECT_KINDS and not (facts and facts.kind):
        kind = _SUBJECT_KINDS[subject]
    stages: list[StageClaim] = []
    if facts and facts.stage:
        stages.append(
            StageClaim(
                facts.stage, "portal", f"{facts.portal}: {facts.stage.value}", facts.stage_date
            )
        )
    for m in drafts:
        stage = text_stage(m.attributes.get("stage", ""), m.sentence)
        if stage is None or any(s.stage is stage for s in stages):
            continue
        on = _iso(m.attributes.get("date")) or published
        stages.append(StageClaim(stage, "text", m.sentence, on))
    readings = {Stage.FIRST_READING, Stage.SECOND_READING, Stage.THIRD_READING}
    if any(s.stage in readings for s in stages):  # "одобрил" in a headline is that reading
        stages = [s for s in stages if not (s.stage is Stage.PASSED_LOWER and s.source == "text")]
    start = end = None
    source = None
    if facts and facts.consultation_end:
        start, end, source = facts.consultation_start, facts.consultation_end, "portal"
    elif drafts:
        found = consultation_dates(f"{doc.title}.\n{doc.text}", published)
        if found:
            start, end, source = found.start, found.end, "text"
            if not any(s.stage is Stage.PUBLIC_DISCUSSION for s in stages):
                stages.append(
                    StageClaim(Stage.PUBLIC_DISCUSSION, "text", found.sentence, start or published)
                )
    return Claim(
        lang=(facts.lang if facts and facts.lang else lang) or "",
        portal=facts.portal if facts else None,
        portal_id=facts.portal_id if facts else None,
        jurisdiction=jurisdiction,
        kind=kind,
        number=number,
        number_key=keys.number_key(number),
        title=own_title,
        title_keys=keys.title_keys(
            kind, subject, own_title, (facts.lang if facts else None) or lang, amending=amending
        ),
        subject=subject,
        issuing_body=facts.issuing_body if facts else None,
        stages=tuple(stages),
        consultation_start=start,
        consultation_end=end,
        consultation_source=source,
        themes=tuple(sorted({m.category for m in matches})),
    )


def _iso(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def with_jurisdiction(claim: Claim, country: str | None) -> Claim:
    """The claim, with its source's country as the jurisdiction when it states none."""
    if claim.jurisdiction or country not in JURISDICTIONS:
        return claim
    return replace(claim, jurisdiction=country)


def _as(c: Candidate) -> str:
    return f"document {c.documents[0]}" if c.documents else f"instrument {c.id}"


def _agree(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b


def decide(
    claim: Claim,
    candidates: Sequence[Candidate],
    *,
    refused: frozenset[int] = frozenset(),
    linked: frozenset[int] = frozenset(),
) -> Decision | None:
    """The instrument ``claim`` belongs to among ``candidates`` (``instrument_id`` None: a
    new one), and why; None when the claim has nothing to identify an instrument by (no
    portal id, number or title key: "a draft law" about nothing named)."""
    if not (claim.portal_id or claim.number_key or claim.title_keys):
        return None
    if not (claim.portal_id or claim.number_key) and claim.jurisdiction is None:
        return None  # a title key alone says nothing without the country it is about
    for c in candidates:
        if c.id in linked:
            return Decision(c.id, "kept", f"linked to instrument {c.id} before")
    open_ = [c for c in candidates if c.id not in refused]
    if claim.portal and claim.portal_id:
        for c in open_:
            if (c.portal, c.portal_id) == (claim.portal, claim.portal_id):
                return Decision(
                    c.id,
                    "portal_id",
                    f"same portal id {claim.portal}/{claim.portal_id} as {_as(c)}",
                )
    if claim.number_key:
        for c in open_:
            if (
                c.number_key == claim.number_key
                and _agree(c.kind, claim.kind)
                and _agree(c.jurisdiction, claim.jurisdiction)
            ):
                kind = claim.kind or c.kind or "unknown"
                return Decision(
                    c.id, "number", f"same number {claim.number} and kind {kind} as {_as(c)}"
                )
    best: tuple[int, Candidate, str] | None = None
    for c in open_:
        shared = sorted(set(claim.title_keys) & c.title_keys)
        if not shared or c.jurisdiction != claim.jurisdiction:
            continue
        if claim.number_key and c.number_key and claim.number_key != c.number_key:
            continue
        if (
            claim.portal_id
            and c.portal_id
            and (c.portal, c.portal_id) != (claim.portal, claim.portal_id)
        ):
            continue
        score = len(shared)
        if best is None or score > best[0]:
            best = (score, c, shared[0])
    if best is not None:
        _, c, key = best
        where = f" ({c.jurisdiction})" if c.jurisdiction else ""
        return Decision(c.id, "title", f"same title key {key}{where} as {_as(c)}")
    what = (
        f"portal id {claim.portal}/{claim.portal_id}"
        if claim.portal_id
        else f"number {claim.number}"
        if claim.number_key
        else f"title key {claim.title_keys[0]}"
        if claim.title_keys
        else "no key matched"
    )
    method = "portal_id" if claim.portal_id else "number" if claim.number_key else "title"
    return Decision(None, method, f"new instrument: {what} matches no stored instrument")
