"""The controlled vocabulary of Central Asian legislative procedure, shared by the portal
spiders (which map a portal's status to a :class:`Stage`), the text rules, the store and what
shows instruments (alerts, digest, web UI, calendar).

A stage's rank orders the procedure: a later stage has a higher rank. Withdrawn and rejected
end a procedure from any point (:data:`TERMINAL_STAGES`). Parliaments differ — Kazakhstan's
Mazhilis and Senate, Uzbekistan's Legislative Chamber and Senate of the Oliy Majlis,
Kyrgyzstan's single-chamber Jogorku Kenesh with three readings, Tajikistan's Majlisi
Namoyandagon and Majlisi Milli — so readings are stages of the *lower* (or only) chamber and
approval by the *upper* chamber; :func:`chamber_label` names the chamber for a jurisdiction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

__all__ = [
    "JURISDICTIONS",
    "KINDS",
    "STAGE_RANK",
    "TERMINAL_STAGES",
    "InstrumentFacts",
    "Stage",
    "chamber_label",
    "stage_label",
]

# ISO 3166 alpha-2, lower case; "intl" for regional and bilateral instruments (CIS, EAEU, C5).
JURISDICTIONS: dict[str, str] = {
    "kz": "Kazakhstan",
    "uz": "Uzbekistan",
    "kg": "Kyrgyzstan",
    "tj": "Tajikistan",
    "tm": "Turkmenistan",
    "intl": "Regional / international",
}

KINDS: tuple[str, ...] = (
    "law",
    "code",
    "decree",
    "resolution",
    "order",
    "concept",
    "strategy",
    "programme",
    "agreement",
)


class Stage(StrEnum):
    """Where an instrument stands; the members are in procedural order."""

    CONCEPT = "concept"  # a concept or intent announced; no text yet
    DRAFTED = "drafted"  # a draft text prepared by a ministry or working group
    PUBLIC_DISCUSSION = "public_discussion"  # posted for public comment (until a date)
    DISCUSSION_CLOSED = "discussion_closed"
    IMPACT_ASSESSMENT = "impact_assessment"  # regulatory impact assessment (АРВ / ОРВ)
    SUBMITTED = "submitted"  # submitted to parliament (or to the government, for a decree)
    FIRST_READING = "first_reading"  # lower (or only) chamber
    SECOND_READING = "second_reading"
    THIRD_READING = "third_reading"
    PASSED_LOWER = "passed_lower"  # adopted by the lower (or only) chamber
    APPROVED_UPPER = "approved_upper"  # approved by the upper chamber
    SIGNED = "signed"
    PUBLISHED = "published"  # officially published
    IN_FORCE = "in_force"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


STAGE_RANK: dict[Stage, int] = {s: i for i, s in enumerate(Stage)}
TERMINAL_STAGES: frozenset[Stage] = frozenset({Stage.WITHDRAWN, Stage.REJECTED})

_LABELS: dict[Stage, str] = {
    Stage.CONCEPT: "Concept",
    Stage.DRAFTED: "Draft prepared",
    Stage.PUBLIC_DISCUSSION: "Public discussion",
    Stage.DISCUSSION_CLOSED: "Discussion closed",
    Stage.IMPACT_ASSESSMENT: "Regulatory impact assessment",
    Stage.SUBMITTED: "Submitted",
    Stage.FIRST_READING: "First reading",
    Stage.SECOND_READING: "Second reading",
    Stage.THIRD_READING: "Third reading",
    Stage.PASSED_LOWER: "Passed",
    Stage.APPROVED_UPPER: "Approved",
    Stage.SIGNED: "Signed",
    Stage.PUBLISHED: "Published",
    Stage.IN_FORCE: "In force",
    Stage.WITHDRAWN: "Withdrawn",
    Stage.REJECTED: "Rejected",
}

# (lower or only chamber, upper chamber or None)
_CHAMBERS: dict[str, tuple[str, str | None]] = {
    "kz": ("Mazhilis", "Senate"),
    "uz": ("Legislative Chamber of the Oliy Majlis", "Senate of the Oliy Majlis"),
    "kg": ("Jogorku Kenesh", None),
    "tj": ("Majlisi Namoyandagon", "Majlisi Milli"),
    "tm": ("Mejlis", None),
}
_LOWER = {
    Stage.FIRST_READING,
    Stage.SECOND_READING,
    Stage.THIRD_READING,
    Stage.PASSED_LOWER,
}


def chamber_label(jurisdiction: str | None, stage: Stage) -> str | None:
    """The chamber a parliamentary stage happens in, for ``jurisdiction``; None for the
    stages outside parliament or where the jurisdiction is unknown."""
    chambers = _CHAMBERS.get(jurisdiction or "")
    if chambers is None:
        return None
    if stage in _LOWER:
        return chambers[0]
    if stage is Stage.APPROVED_UPPER:
        return chambers[1]
    if stage is Stage.SUBMITTED:
        return chambers[0]
    return None


def stage_label(stage: Stage, jurisdiction: str | None = None) -> str:
    """``"First reading (Mazhilis)"``: the stage's name with its chamber where known."""
    chamber = chamber_label(jurisdiction, stage)
    label = _LABELS[stage]
    return (
        f"{label} ({chamber})"
        if chamber and stage is not Stage.SUBMITTED
        else (f"Submitted to the {chamber}" if chamber else label)
    )


@dataclass(frozen=True)
class InstrumentFacts:
    """What a portal's page or listing row states about one instrument (each field None when
    the page does not say). A crawler attaches it to the Document it makes of that page; the
    instruments linker turns it into the instrument's fields and a stage event."""

    portal: str  # the portal's host, e.g. "legalacts.egov.kz"
    portal_id: str | None = None  # the portal's own id for the draft or act
    jurisdiction: str | None = None  # a key of JURISDICTIONS
    kind: str | None = None  # one of KINDS
    number: str | None = None  # the act's number once it has one ("ЗРУ-1018", "№ 123-VII")
    title: str | None = None
    lang: str | None = None  # the language of ``title``
    issuing_body: str | None = None  # the developer or issuing authority as the page names it
    stage: Stage | None = None
    stage_date: date | None = None  # when it reached ``stage``, if the page says
    consultation_start: date | None = None
    consultation_end: date | None = None  # the last day comments are accepted
    version: str | None = None  # the portal's label of this text's edition, if any

    def __post_init__(self) -> None:
        if self.jurisdiction is not None and self.jurisdiction not in JURISDICTIONS:
            raise ValueError(
                f"instruments: unknown jurisdiction {self.jurisdiction!r}; use one of "
                f"{', '.join(JURISDICTIONS)}"
            )
        if self.kind is not None and self.kind not in KINDS:
            raise ValueError(
                f"instruments: unknown kind {self.kind!r}; use one of {', '.join(KINDS)}"
            )
        if self.stage is not None and not isinstance(self.stage, Stage):
            object.__setattr__(self, "stage", Stage(self.stage))
