"""Evidence: each raw match weighed against its context into a scored signal with its reason,
sentence, countries and bodies, and for draft instruments their type, stage, number and date.

Context, exclusions, the gazetteer and stages come from one term scan per field
(:class:`regwatch.nlp.terms.TermMatcher`); what a sentence holds is worked out once per sentence.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from regwatch.nlp.attributes import instrument_details
from regwatch.nlp.rules import TWO_COUNTRIES, Rule, RuleSet
from regwatch.nlp.stems import PATTERNS
from regwatch.nlp.terms import Occurrences

__all__ = [
    "MAX_MATCHES_PER_RULE",
    "Match",
    "Raw",
    "Weigher",
    "all_context",
    "best_per_place",
    "context_conditions",
    "term_items",
]

# A hostile page repeating one phrase 70,000 times yields evidence for the first 100.
MAX_MATCHES_PER_RULE = 100


@dataclass(frozen=True)
class Match:
    category: str
    rule: str
    field: str  # "title" or "text"
    text: str
    start: int
    end: int
    sentence: str
    score: float
    reason: str
    lang: str
    countries: tuple[str, ...] = ()
    bodies: tuple[str, ...] = ()
    attributes: dict[str, str] = dataclasses.field(default_factory=dict)


class Raw(NamedTuple):
    """A match as spaCy found it: the rule, the field and character offsets of the match and
    of its sentence."""

    rule: Rule
    field: str
    start: int
    end: int
    sent_start: int
    sent_end: int


def term_items(rules: RuleSet) -> list[tuple[str, str]]:
    """Every term the evidence needs, labelled: context (``ctx:``), exclusions (``ex:``),
    countries, bodies and draft stages."""
    terms: list[tuple[str, str]] = []
    for label, phrases in all_context(rules).items():
        terms += [(f"ctx:{label}", t) for t in phrases]
    for r in rules.rules:
        terms += [(f"ex:{r.id}", t) for t in r.exclude]
    for code, names in rules.countries.items():
        terms += [(f"country:{code}", n) for n in names]
    for b in rules.bodies:
        terms += [(f"body:{b.id}", n) for n in b.names]
    for st in rules.stages:
        terms += [(f"stage:{st.name}", t) for t in st.terms]
    return terms


def all_context(rules: RuleSet) -> dict[str, tuple[str, ...]]:
    """Every context and required-context label of every rule, with its phrases."""
    out: dict[str, tuple[str, ...]] = {}
    for rule in rules.rules:
        out.update(rules.context_phrases(rule))
        out.update(rules.context_phrases(rule, rule.requires))
        out.update(rules.context_phrases(rule, rule.sentence_requires))
    return out


def context_conditions(rules: RuleSet) -> dict[str, list[frozenset[str]]]:
    """Per rule (its phrases' label and its patterns'), the sets of context labels from each
    of which one must occur for the rule to yield a signal: its required context and the
    context it requires in the sentence (each unless two countries in a sentence will do), and
    the context a rule that scores 0 without it needs (see :meth:`Weigher._weigh`)."""
    out: dict[str, list[frozenset[str]]] = {}
    for rule in rules.rules:
        needs = frozenset(rules.context_phrases(rule))
        required = frozenset(rules.context_phrases(rule, rule.requires))
        conditions = []
        if rule.score <= 0 and needs:
            conditions.append(needs)
        if required and TWO_COUNTRIES not in rule.requires:
            conditions.append(required)
        in_sentence = frozenset(rules.context_phrases(rule, rule.sentence_requires))
        if in_sentence and TWO_COUNTRIES not in rule.sentence_requires:
            conditions.append(in_sentence)
        out[rule.id] = out[rule.id + PATTERNS] = conditions
    return out


class _Document:
    """A document's term occurrences, with what is asked of them more than once (the labels
    anywhere, outside a rule's own matches, in a sentence) worked out once."""

    def __init__(
        self, occ: dict[str, Occurrences], own: dict[tuple[str, str], list[tuple[int, int]]]
    ) -> None:
        self.occ = occ
        self.own = own  # (rule, field) -> the rule's matches as sorted (start, end)
        self._everywhere: set[str] | None = None
        self._outside: dict[str, set[str]] = {}
        self._sentences: dict[tuple[str, int, int], set[str]] = {}
        # (field, sentence start, end) -> countries and bodies
        self.places: dict[tuple[str, int, int], tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def everywhere(self) -> set[str]:
        if self._everywhere is None:
            self._everywhere = self.occ["title"].labels() | self.occ["text"].labels()
        return self._everywhere

    def outside(self, rule: Rule) -> set[str]:
        """Labels found outside the rule's own matches (inside them too for self_context)."""
        if rule.self_context:
            return self.everywhere()
        if rule.id not in self._outside:
            self._outside[rule.id] = set().union(
                *(self.occ[f].labels(skip=self.own.get((rule.id, f), ())) for f in self.occ)
            )
        return self._outside[rule.id]

    def sentence(self, raw: Raw) -> set[str]:
        key = (raw.field, raw.sent_start, raw.sent_end)
        found = self._sentences.get(key)
        if found is None:
            found = self._sentences[key] = self.occ[raw.field].labels(raw.sent_start, raw.sent_end)
        return found


class Weigher:
    """Scores raw matches: context in the sentence, elsewhere in the document or nowhere;
    exclusions and required context; draft stages; countries and bodies."""

    def __init__(self, rules: RuleSet, min_score: float = 0.0) -> None:
        self.rules = rules
        self.min_score = min_score
        self._body_country = {b.id: b.country for b in rules.bodies}
        self._context_labels = {
            r.id: frozenset(f"ctx:{c}" for c in rules.context_phrases(r)) for r in rules.rules
        }
        self._required_labels = {
            r.id: frozenset(f"ctx:{c}" for c in rules.context_phrases(r, r.requires))
            for r in rules.rules
        }
        self._sentence_labels = {
            r.id: frozenset(f"ctx:{c}" for c in rules.context_phrases(r, r.sentence_requires))
            for r in rules.rules
        }

    def weigh_all(
        self, raws: Iterable[Raw], fields: dict[str, str], occ: dict[str, Occurrences], lang: str
    ) -> list[Match]:
        """The signals of a document's raw matches, the best where one category's overlap."""
        per_rule: dict[tuple[str, str], list[Raw]] = defaultdict(list)
        for raw in raws:
            per_rule[(raw.rule.id, raw.field)].append(raw)
        own = {}
        for key, group in per_rule.items():
            group.sort(key=lambda r: r.start)
            own[key] = [(r.start, r.end) for r in group]
        doc = _Document(occ, own)
        found = []
        # a fallback rule's matches count only in sentences where no other rule of their
        # category has a signal, and only the best of them there
        fallbacks: dict[tuple[str, str, int], list[Match]] = defaultdict(list)
        covered: set[tuple[str, str, int]] = set()
        for group in per_rule.values():
            for raw in group[:MAX_MATCHES_PER_RULE]:
                match = self._weigh(raw, fields, doc, lang)
                if match is None or match.score < self.min_score:
                    continue
                place = (match.category, raw.field, raw.sent_start)
                if raw.rule.fallback:
                    fallbacks[place].append(match)
                else:
                    found.append(match)
                    covered.add(place)
        for place, matches in fallbacks.items():
            if place not in covered:
                found.append(max(matches, key=lambda m: (m.score, -m.start)))
        return best_per_place(found)

    def _weigh(self, raw: Raw, fields: dict[str, str], doc: _Document, lang: str) -> Match | None:
        rule, value, here = raw.rule, fields[raw.field], doc.occ[raw.field]
        in_sentence = doc.sentence(raw)
        if f"ex:{rule.id}" in in_sentence:
            return None
        everywhere = doc.everywhere()
        if rule.requires and not self._required(rule, in_sentence, everywhere):
            return None
        if rule.sentence_requires and not self._in_sentence(rule, in_sentence):
            return None
        labels = self._context_labels[rule.id]
        near = labels & in_sentence
        if near and not rule.self_context:  # not the match's own words
            near &= here.labels(raw.sent_start, raw.sent_end, skip=[(raw.start, raw.end)])
        elsewhere = labels & doc.outside(rule) if labels and not near else set()
        if not labels:
            score, reason = rule.score, "phrase match"
        elif near:
            score, reason = rule.sentence_score, f"with {_names(near)} in the sentence"
        elif elsewhere:
            score, reason = rule.document_score, f"with {_names(elsewhere)} in the document"
        else:
            score, reason = rule.score, f"no {_names(labels, '/')} context"
        sentence = value[raw.sent_start : raw.sent_end].strip()
        attributes: dict[str, str] = {}
        if rule.instrument:
            stage, factor = self._stage(in_sentence, sentence)
            attributes = instrument_details(rule.instrument, stage, sentence)
            if factor < 1.0:
                score, reason = score * factor, f"{reason}; stage {stage}, not a draft"
        if score <= 0:
            return None
        key = (raw.field, raw.sent_start, raw.sent_end)
        places = doc.places.get(key)
        if places is None:
            places = doc.places[key] = self._places(in_sentence, everywhere)
        matched = value[raw.start : raw.end]
        return Match(
            category=rule.category,
            rule=rule.id,
            field=raw.field,
            text=matched,
            start=raw.start,
            end=raw.end,
            sentence=sentence,
            score=round(score, 3),
            reason=f"'{matched}' {reason}",
            lang=lang,
            countries=places[0],
            bodies=places[1],
            attributes=attributes,
        )

    def _required(self, rule: Rule, in_sentence: set[str], everywhere: set[str]) -> bool:
        needed = self._required_labels[rule.id]
        if needed & everywhere:
            return True
        countries = {lab for lab in in_sentence if lab.startswith("country:")}
        return TWO_COUNTRIES in rule.requires and len(countries) >= 2

    def _in_sentence(self, rule: Rule, in_sentence: set[str]) -> bool:
        if self._sentence_labels[rule.id] & in_sentence:
            return True
        countries = {lab for lab in in_sentence if lab.startswith("country:")}
        return TWO_COUNTRIES in rule.sentence_requires and len(countries) >= 2

    def _stage(self, in_sentence: set[str], sentence: str) -> tuple[str, float]:
        """The first stage (in instruments.toml order) named in the instrument's own sentence;
        "draft" when none is. Lemmas cannot tell "вступил" from "вступит", so a sentence that
        speaks of a future entry into force is not "in force"; nor is a negated stage."""
        negated = bool(_NEGATED.search(sentence))
        for stage in self.rules.stages:
            if f"stage:{stage.name}" not in in_sentence:
                continue
            if stage.score_factor < 1.0 and (negated or _FUTURE.search(sentence)):
                continue
            return stage.name, stage.score_factor
        return "draft", 1.0

    def _places(
        self, in_sentence: set[str], in_doc: set[str]
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Countries and bodies named in the sentence, else anywhere in the document."""
        for labels in (in_sentence, in_doc):
            bodies = {lab.removeprefix("body:") for lab in labels if lab.startswith("body:")}
            countries = {
                lab.removeprefix("country:") for lab in labels if lab.startswith("country:")
            } | {self._body_country[b] for b in bodies}
            if countries or bodies:
                return tuple(sorted(countries)), tuple(sorted(bodies))
        return (), ()


_FUTURE = re.compile(
    r"\b(will|shall|would)\s+(enter|come|take)\b|вступит|вступят|вступает|вступают|kuchga kiradi",
    re.I,
)
_NEGATED = re.compile(r"\b(not yet|not been|has not|have not|ещё не|еще не|не был[аио]?)\b", re.I)


def _names(labels: Collection[str], sep: str = ", ") -> str:
    return sep.join(sorted(lab.split(":", 1)[1] for lab in labels))


def best_per_place(matches: list[Match]) -> list[Match]:
    """Where matches of one category overlap, keep the higher-scoring (then longer) one."""
    ordered = sorted(matches, key=lambda m: (-m.score, -(m.end - m.start), m.start, m.rule))
    kept: list[Match] = []
    for m in ordered:
        if any(
            k.category == m.category and k.field == m.field and k.start < m.end and m.start < k.end
            for k in kept
        ):
            continue
        kept.append(m)
    return sorted(kept, key=lambda m: (m.category, -m.score, m.field, m.start))
