"""Pure: signal rows → a Digest (sections by category, one item per story, best first)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from store.queries import SignalRow, SourceHealth

__all__ = ["Digest", "DigestItem", "Evidence", "Section", "build_digest"]

CATEGORY_TITLES = {
    "digital_security": "Digital security as a regulatory frame",
    "dushanbe_ai_center": "Dushanbe AI Center and Tajikistan's AI corporation",
    "draft_instrument": "Draft laws, decrees and concepts",
    "ai_governance_body": "AI ministries, agencies and councils",
    "risk_classification": "High-risk AI, prohibited practices and audits",
    "data_localization": "Data localisation and cross-border transfer",
    "content_control": "Disinformation, fakes and content controls",
    "surveillance_biometrics": "Surveillance and biometrics",
    "regional_cooperation": "Regional coordination of tech rules",
}


@dataclass(frozen=True)
class Evidence:
    """The sentence split around the match, so templates highlight without raw HTML."""

    before: str
    match: str
    after: str
    rule: str
    reason: str

    @classmethod
    def of(cls, row: SignalRow) -> Evidence:
        sentence = row.sentence
        at = sentence.find(row.text)
        if at < 0:
            return cls("", row.text, f" — {sentence}" if sentence else "", row.rule, row.reason)
        return cls(sentence[:at], row.text, sentence[at + len(row.text) :], row.rule, row.reason)


@dataclass(frozen=True)
class DigestItem:
    title: str
    url: str
    score: float
    sources: tuple[str, ...]
    tier: str
    country: str
    published_at: datetime | None
    evidence: Evidence
    signals: int


@dataclass(frozen=True)
class Section:
    category: str
    title: str
    items: tuple[DigestItem, ...]
    hidden: int = 0  # items past the per-section cap


@dataclass(frozen=True)
class Digest:
    period_start: datetime
    period_end: datetime
    sections: tuple[Section, ...]
    failing_sources: tuple[SourceHealth, ...] = field(default_factory=tuple)

    @property
    def item_count(self) -> int:
        return sum(len(s.items) + s.hidden for s in self.sections)

    @property
    def subject(self) -> str:
        day = self.period_end.strftime("%Y-%m-%d")
        if not self.sections:
            return f"regwatch {day}: no new signals"
        cats = len(self.sections)
        noun = "category" if cats == 1 else "categories"
        return f"regwatch {day}: {self.item_count} items in {cats} {noun}"


def build_digest(
    rows: list[SignalRow],
    period_start: datetime,
    period_end: datetime,
    health: list[SourceHealth] | None = None,
    max_items: int = 20,
) -> Digest:
    """Group signals by category, then by story (same document or same content), best first."""
    by_category: dict[str, dict[str, list[SignalRow]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        by_category[row.category][row.content_hash].append(row)
    sections = []
    for category, stories in by_category.items():
        items = sorted(
            (_item(group) for group in stories.values()), key=lambda i: (-i.score, i.title)
        )
        sections.append(
            Section(
                category,
                CATEGORY_TITLES.get(category, category.replace("_", " ").capitalize()),
                tuple(items[:max_items]),
                max(0, len(items) - max_items),
            )
        )
    sections.sort(key=lambda s: (-max(i.score for i in s.items), s.category))
    failing = tuple(h for h in (health or []) if h.consecutive_failures > 0)
    return Digest(period_start, period_end, tuple(sections), failing)


def _item(group: list[SignalRow]) -> DigestItem:
    best = max(group, key=lambda r: (r.score, -r.signal_id))
    sources = tuple(sorted({r.source for r in group}))
    return DigestItem(
        title=best.title,
        url=best.url,
        score=best.score,
        sources=sources,
        tier=best.tier,
        country=best.country,
        published_at=best.published_at,
        evidence=Evidence.of(best),
        signals=len(group),
    )
