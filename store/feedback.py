"""Analysts' feedback: a signal marked relevant or not relevant, a category the flagger missed
in a document; precision per rule and per category from it; and the training examples it
gives the learned stage. A verdict copies what it judges (category, rule, field, offsets,
sentence) from the signal, so an edit of the document that moves the signal to
``signal_history`` takes nothing from it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from regwatch.errors import UsageError
from regwatch.store.models import Document, DocumentVersion, Feedback, Signal, SignalHistory

__all__ = [
    "VERDICTS",
    "Precision",
    "TrainingText",
    "judge_signal",
    "mark_missed",
    "precision",
    "training_texts",
]

RELEVANT, NOT_RELEVANT, MISSED = "relevant", "not_relevant", "missed"
VERDICTS = (RELEVANT, NOT_RELEVANT, MISSED)


def judge_signal(session: Session, signal_id: int, relevant: bool, note: str = "") -> Feedback:
    """Record a verdict on signal ``signal_id`` (a current one, or one of an earlier version
    still in history)."""
    found: Signal | SignalHistory | None = session.get(Signal, signal_id)
    if found is None:
        found = session.scalars(
            select(SignalHistory).where(SignalHistory.signal_id == signal_id).limit(1)
        ).first()
    if found is None:
        raise UsageError(
            f"feedback: there is no signal {signal_id}; "
            "'regwatch query' lists the signals with their ids"
        )
    row = Feedback(
        document_id=found.document_id,
        signal_id=signal_id,
        verdict=RELEVANT if relevant else NOT_RELEVANT,
        category=found.category,
        rule=found.rule,
        field=found.field,
        start=found.start,
        end=found.end,
        sentence=found.sentence,
        note=note,
    )
    session.add(row)
    session.flush()
    return row


def mark_missed(
    session: Session,
    document_id: int,
    category: str,
    categories: Collection[str],
    note: str = "",
) -> Feedback:
    """Record that document ``document_id`` is about ``category`` (one of ``categories``,
    the rules' own) though no signal said so."""
    if category not in categories:
        raise UsageError(
            f"feedback --missed {category!r}: not a category; use one of "
            + ", ".join(sorted(categories))
        )
    if session.get(Document, document_id) is None:
        raise UsageError(f"feedback: there is no document {document_id}")
    row = Feedback(document_id=document_id, verdict=MISSED, category=category, note=note)
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Precision:
    """Verdicts on the signals of one rule or one category."""

    key: str
    relevant: int
    not_relevant: int
    missed: int = 0  # documents marked as missing the category (categories only)

    @property
    def judged(self) -> int:
        return self.relevant + self.not_relevant

    @property
    def precision(self) -> float | None:
        return self.relevant / self.judged if self.judged else None


def precision(session: Session) -> tuple[list[Precision], list[Precision]]:
    """(per rule, per category): relevant and not-relevant verdicts, the category rows also
    the missed ones; the latest verdict per signal counts (an analyst may change their mind)."""
    latest = (
        select(func.max(Feedback.id))
        .where(Feedback.verdict != MISSED)
        .group_by(Feedback.document_id, Feedback.rule, Feedback.field, Feedback.start,
                  Feedback.category)
    )  # fmt: skip
    rows = session.execute(
        select(Feedback.rule, Feedback.category, Feedback.verdict).where(
            (Feedback.id.in_(latest)) | (Feedback.verdict == MISSED)
        )
    ).all()
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for rule, category, verdict in rows:
        keys = [("category", category)] + ([("rule", rule)] if verdict != MISSED else [])
        for key in keys:
            counts.setdefault(key, dict.fromkeys(VERDICTS, 0))[verdict] += 1

    def table(kind: str) -> list[Precision]:
        return [
            Precision(k, c[RELEVANT], c[NOT_RELEVANT], c[MISSED] if kind == "category" else 0)
            for (t, k), c in sorted(counts.items())
            if t == kind
        ]

    return table("rule"), table("category")


@dataclass(frozen=True)
class TrainingText:
    """A text feedback makes a training example of: ``labels`` its categories (a sentence
    judged not relevant has none; ``negative`` names the category it is a negative for)."""

    key: str
    title: str
    text: str
    labels: frozenset[str]
    negative: str = ""


def training_texts(session: Session) -> list[TrainingText]:
    """A relevant signal's sentence: a positive for its category; a not-relevant one: a
    negative; a missed category: the document's current version a positive for it (with the
    categories already confirmed in it)."""
    out: list[TrainingText] = []
    missed: dict[int, set[str]] = {}
    for fb in session.scalars(select(Feedback).order_by(Feedback.id)):
        if fb.verdict == MISSED:
            missed.setdefault(fb.document_id, set()).add(fb.category)
        elif fb.sentence:
            labels = frozenset({fb.category}) if fb.verdict == RELEVANT else frozenset()
            negative = "" if labels else fb.category
            out.append(TrainingText(f"feedback-{fb.id}", "", fb.sentence, labels, negative))
    for doc_id, cats in sorted(missed.items()):
        found = session.execute(
            select(DocumentVersion.title, DocumentVersion.text)
            .join(Document, Document.id == DocumentVersion.document_id)
            .where(Document.id == doc_id, DocumentVersion.version == Document.version)
        ).first()
        if found is None:
            continue
        flagged = set(
            session.scalars(select(Signal.category).where(Signal.document_id == doc_id))
        )
        out.append(
            TrainingText(f"feedback-doc-{doc_id}", found[0], found[1], frozenset(cats | flagged))
        )
    return out
